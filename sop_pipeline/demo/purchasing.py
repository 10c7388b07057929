"""Stock and supply: month-end stock per location, from the `inventory` stream; the last year's purchase orders,
from the `purchasing` stream; supplier capacity, from the `suppliers` stream."""

from __future__ import annotations

import numpy as np
import polars as pl

from sop_pipeline.demo.catalogue import SUPPLIER_SPECS, Catalogue
from sop_pipeline.demo.dates import Calendar
from sop_pipeline.demo.demand import COVER_LOOKBACK, Demand

LOCATIONS = ("WH-MAIN", "WH-EU")
EU_STOCK_SHARE = (0.25, 0.45)  # share of an EU-stocked SKU's units held in WH-EU

# The stock position.
COVER_MONTHS = (0.8, 2.2)  # each SKU's usual months of cover...
COVER_JITTER = (0.6, 1.4)  # ...varying month to month...
COVER_BOUNDS = (0.5, 3.0)  # ...within these bounds
SLOW_MOVER_COVER = (4.0, 12.0)  # slow movers sit on a MOQ batch for many months
LEFTOVER_COVER, LEFTOVER_MIN = (0.5, 3.0), 5  # stock left on discontinued SKUs
NEAR_STOCKOUT_SHARE, NEAR_STOCKOUT_COVER, NEAR_STOCKOUT_MIN_UNITS = 0.06, (0.05, 0.2), 10
EXCESS_SHARE, EXCESS_COVER = 0.06, (9.0, 15.0)

# Purchasing.
PO_HISTORY_MONTHS, PO_MAX_LINES = 12, 40
ORDER_COVER = (0.9, 1.3)  # an order covers its interval's demand, give or take
MAX_ORDER_INTERVAL = 12
STOP_ORDERING_DAYS = 90  # no orders in the last three months of a SKU's life
EXPECTED_DATE_NOISE = (-5, 6)
PO_COST_FACTOR = (0.95, 1.03)
CANCELLED_SHARE = 0.02
LATE_WINDOW_DAYS, LATE_SHARE = 45, 0.3  # of the receipts due in the last 45 days, 30 % have not (fully) arrived
PARTIAL_SHARE, PARTIAL_RECEIVED = 0.5, (0.3, 0.8)  # half the late lines got part of their units
CAPACITY_STEP, CAPACITY_MIN = 100, 500


def draw_inventory(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """Month-end stock per location for every SKU launched by then (discontinued ones keep their leftover)."""
    on_hand = _stock_on_hand(rng, cal, cat, demand)
    launched = cal.month_end[None, :] >= cat.launch_day[:, None]
    eu_share = np.where(cat.in_eu, rng.uniform(*EU_STOCK_SHARE, cat.size), 0.0)
    eu = np.round(on_hand * eu_share[:, None]).astype(np.int64)
    s, m = np.nonzero(launched)
    eu_rows = cat.in_eu[s]
    location = np.concatenate([np.zeros(len(s), dtype=np.int64), np.ones(int(eu_rows.sum()), dtype=np.int64)])
    s, m = np.concatenate([s, s[eu_rows]]), np.concatenate([m, m[eu_rows]])
    units = np.where(location == 0, on_hand[s, m] - eu[s, m], eu[s, m])
    order = np.lexsort((location, s, m))
    return pl.DataFrame({
        "snapshot_date": cal.month_end[m[order]].astype("datetime64[D]"),
        "sku": pl.Series(cat.sku).gather(s[order]),
        "location": pl.Series(LOCATIONS).gather(location[order]),
        "on_hand": units[order],
    })


def _stock_on_hand(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> np.ndarray:
    """Total month-end units per SKU: a few months of cover, zero in stockout months, a leftover after
    discontinuation, and at the last month-end some SKUs nearly out and some in clear excess."""
    usual = rng.uniform(*COVER_MONTHS, cat.size)
    slow = rng.uniform(*SLOW_MOVER_COVER, cat.size)
    cover = np.clip(usual[:, None] * rng.uniform(*COVER_JITTER, demand.reference.shape), *COVER_BOUNDS)
    cover = np.where(cat.intermittent[:, None], slow[:, None], cover)
    on_hand = np.maximum(np.round(cover * demand.reference), 1).astype(np.int64)

    last_level = np.take_along_axis(demand.reference, np.clip(cal.month_index(cat.end_day), 0, cal.months - 1)[:, None], 1)[:, 0]
    leftover = np.maximum(np.round(rng.uniform(*LEFTOVER_COVER, cat.size) * last_level), LEFTOVER_MIN).astype(np.int64)
    ended = cal.month_end[None, :] >= cat.end_day[:, None]
    on_hand = np.where(ended, leftover[:, None], on_hand)
    on_hand[demand.stockout] = 0
    _set_last_cover(rng, cal, cat, demand, on_hand)
    return on_hand


def _set_last_cover(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand,
                    on_hand: np.ndarray) -> None:
    """Put some established SKUs under 0.3 and some over 8 months of cover (on recent sales) at the
    last month-end, so the supply review has both risks to report."""
    recent_sales = demand.units[:, :, -COVER_LOOKBACK:].sum(axis=(1, 2)) / COVER_LOOKBACK
    established = cat.launch_day < cal.month_start[cal.months - COVER_LOOKBACK]
    candidates = (cat.status == "active") & ~cat.intermittent & established & ~demand.stockout[:, -1]
    near = np.flatnonzero(candidates & (recent_sales >= NEAR_STOCKOUT_MIN_UNITS))
    near = rng.choice(near, size=min(len(near), max(1, round(NEAR_STOCKOUT_SHARE * cat.size))), replace=False)
    on_hand[near, -1] = np.ceil(rng.uniform(*NEAR_STOCKOUT_COVER, len(near)) * recent_sales[near])
    candidates[near] = False
    excess = np.flatnonzero(candidates & (recent_sales > 0))
    excess = rng.choice(excess, size=min(len(excess), max(1, round(EXCESS_SHARE * cat.size))), replace=False)
    on_hand[excess, -1] = np.ceil(rng.uniform(*EXCESS_COVER, len(excess)) * recent_sales[excess])


def draw_purchase_orders(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """The last year's purchase orders: one PO per supplier and month (split above PO_MAX_LINES lines),
    each SKU ordered every few months in MOQ-rounded batches; received, open, late or cancelled at the cycle."""
    first = max(0, cal.months - PO_HISTORY_MONTHS)
    window = demand.reference[:, first:]
    selling = (window > 0).sum(axis=1)
    level = window.sum(axis=1) / np.maximum(selling, 1)
    interval = np.clip(np.ceil(cat.moq / np.maximum(level, 1e-3)), 1, MAX_ORDER_INTERVAL).astype(np.int64)
    phase = rng.integers(0, interval)
    months = np.arange(first, cal.months)
    s, j = np.nonzero((months[None, :] + phase[:, None]) % interval[:, None] == 0)
    m = months[j]
    supplier = cat.supplier[s]
    send_day = rng.integers(1, 29, size=(cal.months, len(SUPPLIER_SPECS)))
    order_day = cal.month_start[m] + send_day[m, supplier] - 1
    lead = cat.lead_time_days[s]
    keep = (order_day + lead >= cat.launch_day[s]) & (order_day <= cat.end_day[s] - STOP_ORDERING_DAYS)
    s, m, supplier, order_day, lead = s[keep], m[keep], supplier[keep], order_day[keep], lead[keep]

    multiple = cat.order_multiple[s]
    wanted = np.maximum(cat.moq[s], level[s] * interval[s] * rng.uniform(*ORDER_COVER, len(s)))
    quantity = (np.ceil(wanted / multiple) * multiple).astype(np.int64)
    expected = order_day + lead + rng.integers(*EXPECTED_DATE_NOISE, len(s))
    status, received = _po_status(rng, cal, expected, quantity, multiple)

    lines = pl.DataFrame({
        "month": m, "supplier": supplier, "s": s,
        "sku": pl.Series(cat.sku).gather(s),
        "order_date": order_day.astype("datetime64[D]"),
        "expected_date": expected.astype("datetime64[D]"),
        "quantity": quantity,
        "received_quantity": received,
        "status": pl.Series(["open", "partial", "received", "cancelled"]).gather(status),
        "unit_cost": np.round(cat.unit_cost[s] * rng.uniform(*PO_COST_FACTOR, len(s)), 2),
    }).sort("month", "supplier", "s")
    # Goods arrive on their expected date in the demo; the date lets past cycles see the PO as open.
    lines = lines.with_columns(
        pl.when(pl.col("received_quantity") > 0).then(pl.col("expected_date")).alias("received_date")
    )
    return _number_purchase_orders(lines)


def _po_status(rng: np.random.Generator, cal: Calendar, expected: np.ndarray, quantity: np.ndarray,
               multiple: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Status index (open, partial, received, cancelled) and received units of each PO line.

    Due before the cycle means received, except a share of the most recent ones that are late
    (nothing or part received); due later means open. A few lines of any age were cancelled.
    """
    open_, partial, received, cancelled = range(4)
    status = np.where(expected < cal.cycle_day, received, open_)
    status[rng.random(len(status)) < CANCELLED_SHARE] = cancelled
    recent = np.flatnonzero((status == received) & (expected >= cal.cycle_day - LATE_WINDOW_DAYS))
    late = rng.choice(recent, size=min(len(recent), max(1, round(LATE_SHARE * len(recent)))), replace=False)
    status[late] = open_
    split = late[(rng.random(len(late)) < PARTIAL_SHARE) & (quantity[late] > multiple[late])]
    status[split] = partial
    got = np.where(status == received, quantity, 0)
    share = rng.uniform(*PARTIAL_RECEIVED, len(split))
    got[split] = np.clip(np.floor(share * quantity[split] / multiple[split]) * multiple[split],
                         multiple[split], quantity[split] - multiple[split])
    return status, got


def _number_purchase_orders(lines: pl.DataFrame) -> pl.DataFrame:
    """po_id = PO-<year>-<sequence>, one per supplier, month and block of PO_MAX_LINES lines."""
    lines = lines.with_columns(block=pl.int_range(pl.len()).over("month", "supplier") // PO_MAX_LINES)
    keys = (
        lines.select("month", "supplier", "block", year=pl.col("order_date").dt.year())
        .unique(maintain_order=True)
        .with_columns(sequence=pl.int_range(1, pl.len() + 1).over("year"))
    )
    width = max(4, len(str(keys["sequence"].max())))
    keys = keys.with_columns(po_id=pl.format("PO-{}-{}", "year", pl.col("sequence").cast(pl.String).str.zfill(width)))
    return lines.join(keys, on=["month", "supplier", "block"], how="left").sort("po_id", "sku")


def draw_suppliers(rng: np.random.Generator, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """Capacity sized on each supplier's average monthly units of the last year; SUP-01's headroom is too
    small for its Q4 peak, so capacity overloads appear in the supply review."""
    monthly = demand.units[:, :, -PO_HISTORY_MONTHS:].sum(axis=(1, 2)) / PO_HISTORY_MONTHS
    load = np.bincount(cat.supplier, weights=monthly, minlength=len(SUPPLIER_SPECS))
    headroom = np.array([rng.uniform(*s.capacity_headroom) for s in SUPPLIER_SPECS])
    capacity = np.maximum(np.ceil(load * headroom / CAPACITY_STEP) * CAPACITY_STEP, CAPACITY_MIN)
    return pl.DataFrame({
        "supplier": [s.code for s in SUPPLIER_SPECS],
        "name": [s.name for s in SUPPLIER_SPECS],
        "monthly_capacity": capacity.astype(np.int64),
        "deposit_share": [s.deposit_share for s in SUPPLIER_SPECS],
        "payment_days": [s.payment_days for s in SUPPLIER_SPECS],
    })
