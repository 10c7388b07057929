"""Plans: this cycle's overrides and next year's budget, from the `plans` stream; the twelve past cycles'
overrides, from the `past_plans` stream; the decision log and approvals of the last meetings, which draw
nothing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.demo.catalogue import FAMILIES, Catalogue
from sop_pipeline.demo.dates import HOLIDAY_MONTHS, Calendar, month_bounds
from sop_pipeline.demo.demand import COVER_LOOKBACK, Demand

OVERRIDE_ROWS, OVERRIDE_FAMILY_ROWS, OVERRIDE_SKU_POOL, OVERRIDE_MONTHS = (5, 10), (2, 4), 30, 12
OWNERS = ("maria.k", "tom.b", "aisha.r", "li.w")
SKU_OVERRIDE_REASONS = (  # (reason, factor range on the SKU's recent monthly level)
    ("Retailer confirmed listing", (1.3, 1.8)),
    ("Influencer campaign booked", (1.5, 2.2)),
    ("Large wholesale pre-order", (1.6, 2.5)),
    ("Supplier allocation cut", (0.5, 0.8)),
)
FAMILY_OVERRIDE_REASONS = (  # (reason, percent range)
    ("Price increase announced", (-0.08, -0.03)),
    ("Holiday catalogue feature", (0.10, 0.25)),
    ("Competitor out of stock", (0.05, 0.15)),
    ("Lost shelf space at a key account", (-0.20, -0.10)),
)
# Overrides of the past cycles, so the consensus can be backtested and the FVA of overrides tells the usual
# story (Gilliland): SKU quantities backed by real information move the number most of the way to what
# then sold, family percentages from sales-team confidence are mostly optimistic and make it worse.
PAST_OVERRIDE_CYCLES, PAST_OVERRIDE_MONTHS = 12, 6  # each cycle overrides its own month and the five after it
PAST_OVERRIDE_SURPRISE = 0.25  # a planner knows something about SKU-months whose sales were this far off the level
PAST_OVERRIDE_PULL, PAST_OVERRIDE_NOISE = (0.5, 0.9), 0.10  # share of the gap to sales closed; log-normal noise
PAST_RAISE_REASONS = tuple(r for r, factor in SKU_OVERRIDE_REASONS if factor[0] > 1)
PAST_CUT_REASONS = ("Key account postponed its order", "Retailer reduced its range")
STOCKOUT_REASON = "Supplier allocation cut"  # what a planner knew ahead of a month the shelf ran empty
PAST_FAMILY_OVERRIDE_REASONS = (  # (reason, percent range, odds, holiday months only)
    ("Sales team confidence", (0.05, 0.20), 0.45, False),
    ("Holiday push", (0.05, 0.20), 0.25, True),
    ("Holiday catalogue feature", (0.10, 0.20), 0.10, True),
    ("Competitor out of stock", (0.05, 0.15), 0.10, False),
    ("Price increase announced", (-0.08, -0.03), 0.05, False),
    ("Lost shelf space at a key account", (-0.15, -0.05), 0.05, False),
)
BUDGET_MONTHS, BUDGET_AMBITION, BUDGET_GROWTH_BOUNDS, BUDGET_STEP = 12, (1.05, 1.10), (-0.10, 0.30), 100


def draw_overrides(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """A planner's overrides for this cycle: unit targets on strong SKUs, percentages on families."""
    recent_level = demand.reference[:, -COVER_LOOKBACK:].mean(axis=1)
    pool = np.flatnonzero((cat.status == "active") & ~cat.intermittent & (demand.reference[:, -1] > 0))
    pool = pool[np.argsort(-recent_level[pool], kind="stable")][:OVERRIDE_SKU_POOL]
    families = np.unique(cat.family)
    n_family = min(int(rng.integers(OVERRIDE_FAMILY_ROWS[0], OVERRIDE_FAMILY_ROWS[1] + 1)), len(families))
    n_sku = min(int(rng.integers(OVERRIDE_ROWS[0], OVERRIDE_ROWS[1] + 1)) - n_family, len(pool))

    rows = []
    for s in rng.choice(pool, size=n_sku, replace=False).tolist():
        reason, factor = SKU_OVERRIDE_REASONS[int(rng.integers(len(SKU_OVERRIDE_REASONS)))]
        units = max(10, int(round(recent_level[s] * rng.uniform(*factor) / 10)) * 10)
        rows.append((str(cat.sku[s]), None, units, None, reason))
    for f in rng.choice(families, size=n_family, replace=False).tolist():
        reason, percent = FAMILY_OVERRIDE_REASONS[int(rng.integers(len(FAMILY_OVERRIDE_REASONS)))]
        rows.append((None, FAMILIES[f].name, None, round(float(rng.uniform(*percent)), 2), reason))

    month = month_bounds(cal.cycle_month + rng.integers(0, OVERRIDE_MONTHS, len(rows)))[0]
    owner = rng.choice(OWNERS, size=len(rows))
    return _overrides_frame(np.full(len(rows), cal.cycle_day), month, rows, owner)


def draw_past_overrides(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """What planners overrode in each of the PAST_OVERRIDE_CYCLES cycles before this one, over that cycle's
    own months: SKU quantities where they knew of a listing, a pre-order or a cut (the simulated sales say
    which SKU-months those were), and family percentages that are mostly sales-team optimism."""
    sold = demand.units.sum(axis=1)
    cycles, months, rows = [], [], []
    for back in range(PAST_OVERRIDE_CYCLES, 0, -1):
        first = cal.months - back  # history month index of the past cycle
        n_total = int(rng.integers(OVERRIDE_ROWS[0], OVERRIDE_ROWS[1] + 1))
        n_family = int(rng.integers(OVERRIDE_FAMILY_ROWS[0], OVERRIDE_FAMILY_ROWS[1] + 1))
        sku_rows = _past_sku_overrides(rng, cal, cat, demand, sold, first, n_total - n_family)
        family_rows = _past_family_overrides(rng, cal, first, n_family)
        for month, row in sku_rows + family_rows:
            cycles.append(cal.cycle_month - back)
            months.append(month)
            rows.append(row)
    owner = rng.choice(OWNERS, size=len(rows))
    return _overrides_frame(month_bounds(np.array(cycles))[0], month_bounds(np.array(months))[0], rows, owner)


def _past_sku_overrides(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand, sold: np.ndarray,
                        first: int, count: int) -> list[tuple[int, tuple]]:
    """Up to `count` (month, row) unit overrides on the cycle's strong SKUs, in months that have sales by now:
    the SKU-months whose sales were far off their level, moved part of the way from the level to the sales."""
    level = demand.reference
    known = ~cat.intermittent & (cat.launch_day < cal.month_start[first]) & (level[:, first] > 0)
    pool = np.flatnonzero(known)
    pool = pool[np.argsort(-level[pool, first], kind="stable")][:OVERRIDE_SKU_POOL]
    window = np.arange(first, min(first + PAST_OVERRIDE_MONTHS, cal.months))
    s, m = (a.ravel() for a in np.meshgrid(pool, window, indexing="ij"))
    surprise = (sold[s, m] > 0) & (level[s, m] > 0)
    surprise &= np.abs(sold[s, m] / np.maximum(level[s, m], 1e-9) - 1) >= PAST_OVERRIDE_SURPRISE
    pick = rng.choice(np.flatnonzero(surprise), size=min(count, int(surprise.sum())), replace=False)
    s, m = s[pick], m[pick]
    pull = rng.uniform(*PAST_OVERRIDE_PULL, len(s))
    noise = rng.lognormal(0.0, PAST_OVERRIDE_NOISE, len(s))
    wanted = (level[s, m] + pull * (sold[s, m] - level[s, m])) * noise
    units = np.maximum(np.where(wanted >= 100, np.round(wanted, -1), np.round(wanted)), 1).astype(np.int64)
    cut_reason = rng.choice(PAST_CUT_REASONS, size=len(s))
    raise_reason = rng.choice(PAST_RAISE_REASONS, size=len(s))
    reason = np.where(demand.stockout[s, m], STOCKOUT_REASON,
                      np.where(sold[s, m] < level[s, m], cut_reason, raise_reason))
    return [
        (cal.cycle_month - cal.months + month, (str(cat.sku[sku]), None, q, None, str(r)))
        for sku, month, q, r in zip(s.tolist(), m.tolist(), units.tolist(), reason.tolist())
    ]


def _past_family_overrides(rng: np.random.Generator, cal: Calendar, first: int, count: int) -> list[tuple[int, tuple]]:
    """`count` (month, row) percentage overrides on distinct family-months of the cycle, drawn without
    looking at what sold: mostly optimistic, holiday reasons only in the holiday months."""
    family, ahead = np.divmod(rng.choice(len(FAMILIES) * PAST_OVERRIDE_MONTHS, size=count, replace=False),
                              PAST_OVERRIDE_MONTHS)
    month = cal.cycle_month - cal.months + first + ahead
    rows = []
    for f, mo in zip(family.tolist(), month.tolist()):
        holiday = mo % 12 in HOLIDAY_MONTHS
        odds = np.array([p if holiday or not only else 0.0 for _, _, p, only in PAST_FAMILY_OVERRIDE_REASONS])
        reason, percent, _, _ = PAST_FAMILY_OVERRIDE_REASONS[int(rng.choice(len(odds), p=odds / odds.sum()))]
        rows.append((mo, (None, FAMILIES[f].name, None, round(float(rng.uniform(*percent)), 2), reason)))
    return rows


def _overrides_frame(cycle_day: np.ndarray, month_day: np.ndarray, rows: list[tuple],
                     owner: np.ndarray) -> pl.DataFrame:
    """Override rows (sku, family, quantity, percent, reason) with their cycle, month and owner, in key order."""
    frame = pl.DataFrame(
        {
            "cycle": np.asarray(cycle_day, dtype=np.int64).astype("datetime64[D]"),
            "sku": [r[0] for r in rows],
            "family": [r[1] for r in rows],
            "month": np.asarray(month_day, dtype=np.int64).astype("datetime64[D]"),
            "quantity": [r[2] for r in rows],
            "percent": [r[3] for r in rows],
            "reason": [r[4] for r in rows],
            "owner": owner.tolist(),
        },
        schema_overrides={"sku": pl.String, "family": pl.String, "quantity": pl.Int64, "percent": pl.Float64},
    )
    return frame.sort("cycle", "month", "sku", "family", nulls_last=True)


def draw_budget(rng: np.random.Generator, cal: Calendar, family_revenue: np.ndarray) -> pl.DataFrame:
    """Next year's revenue target per family: the same month last year, grown at the family's last-year
    growth, plus the 5-10 % of ambition a budget usually carries."""
    last_year = family_revenue[:, -12:]
    if cal.months >= 24:
        prior = family_revenue[:, -24:-12].sum(axis=1)
        growth = np.where(prior > 0, last_year.sum(axis=1) / np.maximum(prior, 1e-9) - 1, 0.0)
    else:
        growth = np.zeros(len(FAMILIES))
    growth = np.clip(growth, *BUDGET_GROWTH_BOUNDS)
    target = last_year * (1 + growth[:, None]) * rng.uniform(*BUDGET_AMBITION, last_year.shape)
    target = np.round(target / BUDGET_STEP) * BUDGET_STEP
    sold = np.flatnonzero(family_revenue.sum(axis=1) > 0)
    month = month_bounds(cal.cycle_month + np.arange(BUDGET_MONTHS))[0]
    f, h = np.meshgrid(sold, np.arange(BUDGET_MONTHS))  # month-major rows
    return pl.DataFrame({
        "month": month[h.ravel()].astype("datetime64[D]"),
        "family": np.array([x.name for x in FAMILIES])[f.ravel()],
        "revenue_target": target[f.ravel(), h.ravel()].astype(np.float64),
    })


def decisions_frame(cycle: date, products: pl.DataFrame) -> pl.DataFrame:
    """The log of the two meetings before the cycle, so the demo's pack has decisions to follow up: done,
    dropped, in progress and one overdue. No randomness: the same SKUs and families whatever the seed."""
    last, before = add_months(cycle, -1), add_months(cycle, -2)
    first_sku, first_family = products["sku"][0], products["family"][0]
    other_family = next((f for f in products["family"] if f != first_family), first_family)
    rows = [
        (f"D-{before:%Y-%m}-01", before, "Cut the next order of slow movers in the family by a third", "ops.lead",
         add_months(before, 1) - timedelta(days=1), "done", None, first_family, "excess"),
        (f"D-{last:%Y-%m}-01", last, "Expedite the open purchase order by air freight", "buyer.sam",
         last + timedelta(days=14), "open", first_sku, None, "stockout"),
        (f"D-{last:%Y-%m}-02", last, "Ask the supplier for a second production line from next quarter", "coo",
         add_months(cycle, 1) + timedelta(days=14), "in_progress", None, other_family, "capacity_overload"),
        (f"D-{last:%Y-%m}-03", last, "Run the spring promotion two weeks earlier", "marketing.li",
         None, "dropped", None, other_family, None),
        (f"D-{last:%Y-%m}-04", last, "Review list prices with finance before the budget", "cfo",
         last + timedelta(days=20), "done", None, None, None),
    ]
    frame = pl.DataFrame(rows, schema=["decision_id", "cycle", "decision", "owner", "due_date", "status", "sku",
                                       "family", "exception_type"], orient="row")
    return frame.with_columns(pl.col("cycle", "due_date").cast(pl.String))


def approvals_frame(cycle: date) -> pl.DataFrame:
    """The previous meeting approved its plan in the central scenario; the cycle's own meeting has not met yet,
    so its plan stays a draft until `sop approve`."""
    last = add_months(cycle, -1)
    return pl.DataFrame({"cycle": [last.isoformat()], "scenario": ["central"], "approved_by": ["ceo.anna"],
                         "approved_on": [(last + timedelta(days=11)).isoformat()],
                         "note": ["Central plan approved; expedite the late purchase order"]})
