"""The plan bridge (SPEC §10): why this cycle's locked plan, buy plan and cash need differ from last cycle's.

One row per family (null = company total) and cause; the causes add up exactly to current_plan − previous_plan
for every measure and family, and what they leave is `residual`, never spread. Purchases and cash come from a
substitution walk through the supply review. Design notes: docs/pack.md, *The plan bridge*.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from sop_pipeline.plan.lock import SCHEMA as PLAN_SCHEMA
from sop_pipeline.plan.lock import TABLE as PLAN_TABLE
from sop_pipeline.plan.lock import current_plan
from sop_pipeline.scenarios import CENTRAL, Scenario
from sop_pipeline.scenario_run import ScenarioResult, SupplyInputs, run_scenario
from sop_pipeline.warehouse import fetch_frame, insert_rows, qualified, table_columns

if TYPE_CHECKING:
    from sop_pipeline.config import SopConfig

SURPRISE_CARRY = 0.2  # α: the level weight of simple exponential smoothing

CAUSES = (
    "previous_plan", "rolled_off", "rolled_on", "actuals", "model", "events", "overrides", "new_skus",
    "discontinued_skus", "price_cost", "stock_and_orders", "residual", "current_plan",
)
LEVELS = ("previous_plan", "current_plan")
DEMAND_MEASURES = ("demand_units", "demand_value")
SUPPLY_MEASURES = ("purchase_value", "peak_cash_need", "peak_inventory_cash_need")
MEASURES = DEMAND_MEASURES + SUPPLY_MEASURES
PLAN_BRIDGE_SCHEMA = {
    "cycle": pl.Date, "family": pl.String, "cause": pl.String, "cause_order": pl.Int32, "is_level": pl.Boolean,
    **{m: pl.Float64 for m in MEASURES}, "note": pl.String,
}
PRICES_SCHEMA, PRICES_TABLE = "meta", "plan_prices"  # unpublished: last cycle's prices for the next bridge
PRICES_COLUMNS = {"sku": pl.String, "unit_price": pl.Float64, "unit_cost": pl.Float64}
NO_FAMILY = "(no family)"  # a null family would read as the company total

_PLAN_COLUMNS = ("forecast", "event_uplift", "override_units", "consensus", "p10", "p90")
_UNIT_CAUSES = ("rolled_off", "rolled_on", "actuals", "model", "events", "overrides", "new_skus",
                "discontinued_skus", "residual")
_STEPS = ("stock_and_orders", "rolled_on", "forecast", "events", "overrides", "skus")


# ---------------------------------------------------------------------------------------------------------
# Demand: units and value


def _plan_rows(plan: pl.DataFrame, suffix: str) -> pl.DataFrame:
    """`sku, month, family_<s>` and the plan columns suffixed, one row per SKU and month, nulls as 0."""
    return plan.select(
        pl.col("sku").cast(pl.String), pl.col("month").cast(pl.Date),
        pl.col("family").cast(pl.String).alias(f"family{suffix}"),
        *[pl.col(c).cast(pl.Float64).fill_null(0.0).alias(f"{c}{suffix}") for c in _PLAN_COLUMNS],
    )


def _joined(previous_plan: pl.DataFrame, current_plan: pl.DataFrame) -> pl.DataFrame:
    """Both plans side by side per SKU and month (`_p`, `_c`), with `sku_kind` (common, new, discontinued),
    `month_kind` (off: before this plan; on: after the previous plan; overlap) and `family`."""
    prev, cur = _plan_rows(previous_plan, "_p"), _plan_rows(current_plan, "_c")
    prev_months, cur_months = prev["month"].unique().implode(), cur["month"].unique().implode()
    prev_skus, cur_skus = prev["sku"].unique().implode(), cur["sku"].unique().implode()
    families = pl.concat([
        cur.select("sku", pl.col("family_c").alias("family")).unique("sku", keep="first"),
        prev.select("sku", pl.col("family_p").alias("family")).unique("sku", keep="first"),
    ]).unique("sku", keep="first", maintain_order=True).with_columns(pl.col("family").fill_null(NO_FAMILY))
    return (
        prev.join(cur, on=["sku", "month"], how="full", coalesce=True)
        .drop("family_p", "family_c")
        .join(families, on="sku", how="left")
        .with_columns(
            pl.when(pl.col("sku").is_in(prev_skus) & pl.col("sku").is_in(cur_skus)).then(pl.lit("common"))
            .when(pl.col("sku").is_in(cur_skus)).then(pl.lit("new")).otherwise(pl.lit("discontinued"))
            .alias("sku_kind"),
            pl.when(~pl.col("month").is_in(cur_months)).then(pl.lit("off"))
            .when(~pl.col("month").is_in(prev_months)).then(pl.lit("on")).otherwise(pl.lit("overlap"))
            .alias("month_kind"),
        )
        .sort("sku", "month")
    )


def _sum(expr: pl.Expr, name: str) -> pl.Expr:
    return expr.fill_null(0.0).sort().sum().alias(name)


def sku_causes(previous_plan: pl.DataFrame, current_plan: pl.DataFrame, actuals: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU of either plan: `sku, family`, the demand units of every cause (module docstring),
    `previous_units`, `current_units` and `forecast_change` (Δforecast over the overlap months)."""
    rows = _joined(previous_plan, current_plan)
    n_overlap = rows.filter(pl.col("month_kind") == "overlap")["month"].n_unique()
    kind, month = pl.col("sku_kind"), pl.col("month_kind")
    common = (kind == "common") & (month == "overlap")
    delta = {c: pl.col(f"{c}_c") - pl.col(f"{c}_p") for c in ("forecast", "event_uplift", "override_units")}
    known = actuals.select(
        pl.col("sku").cast(pl.String), pl.col("month").cast(pl.Date), pl.col("units").cast(pl.Float64),
        pl.col("is_stockout").cast(pl.Boolean).fill_null(False),
    )
    rows = rows.join(known, on=["sku", "month"], how="left")
    surprise = pl.when((month == "off") & pl.col("units").is_not_null() & ~pl.col("is_stockout").fill_null(False)) \
        .then(pl.col("units") - pl.col("forecast_p"))
    per_sku = rows.group_by("sku", "family").agg(
        _sum(pl.col("consensus_p"), "previous_units"),
        _sum(pl.col("consensus_c"), "current_units"),
        _sum(pl.when(month == "off").then(-pl.col("consensus_p")), "rolled_off"),
        _sum(pl.when(month == "on").then(pl.col("consensus_c")), "rolled_on"),
        _sum(pl.when(common).then(delta["forecast"]), "forecast_change"),
        _sum(pl.when(common).then(delta["event_uplift"]), "events"),
        _sum(pl.when(common).then(delta["override_units"]), "overrides"),
        _sum(pl.when((kind == "new") & (month == "overlap")).then(pl.col("consensus_c")), "new_skus"),
        _sum(pl.when((kind == "discontinued") & (month == "overlap")).then(-pl.col("consensus_p")),
             "discontinued_skus"),
        _sum(surprise, "surprise"),
        pl.col("sku_kind").first(),
    )
    change = pl.col("forecast_change")
    carried = SURPRISE_CARRY * pl.col("surprise") * n_overlap
    explained = (
        pl.when(pl.col("sku_kind") != "common").then(0.0)
        .when(change >= 0).then(pl.min_horizontal(pl.max_horizontal(carried, 0.0), change))
        .otherwise(pl.max_horizontal(pl.min_horizontal(carried, 0.0), change))
    )
    known_causes = [c for c in _UNIT_CAUSES if c not in ("actuals", "model", "residual")]
    return (
        per_sku.with_columns(explained.alias("actuals"))
        .with_columns((change - pl.col("actuals")).alias("model"))
        .with_columns(
            (pl.col("current_units") - pl.col("previous_units")
             - pl.sum_horizontal(*known_causes, "actuals", "model")).alias("residual")
        )
        .sort("sku")
    )


def _prices(prices: pl.DataFrame | None) -> pl.DataFrame:
    if prices is None:
        return pl.DataFrame(schema=PRICES_COLUMNS)
    return prices.select([pl.col(c).cast(t) for c, t in PRICES_COLUMNS.items()]).unique("sku", keep="first")


def _frame_rows(per_family: pl.DataFrame, families: list[str], cycle: date, notes: dict[str, str]) -> pl.DataFrame:
    """The bridge's rows from `family, cause, <measures>` per family: every family × cause, missing values 0
    (null for the supply measures), then the total row of each cause summed over the families."""
    grid = pl.DataFrame({"family": families}, schema={"family": pl.String}).join(
        pl.DataFrame({"cause": list(CAUSES), "cause_order": list(range(1, len(CAUSES) + 1))},
                     schema={"cause": pl.String, "cause_order": pl.Int32}),
        how="cross",
    )
    values = grid.join(per_family, on=["family", "cause"], how="left")
    for measure in MEASURES:
        if measure not in values.columns:
            values = values.with_columns(pl.lit(None, pl.Float64).alias(measure))
    values = values.with_columns(pl.col(m).fill_null(0.0) for m in DEMAND_MEASURES)
    total = values.group_by("cause", "cause_order").agg(
        *[pl.when(pl.col(m).is_null().all()).then(None).otherwise(pl.col(m).sort().sum()).alias(m)
          for m in ("demand_units", "demand_value", "purchase_value")],
    ).with_columns(pl.lit(None, pl.String).alias("family"))
    rows = pl.concat([total, values.select(total.columns)], how="diagonal_relaxed")
    return _finish(rows, cycle, notes)


def _finish(rows: pl.DataFrame, cycle: date, notes: dict[str, str]) -> pl.DataFrame:
    for measure in MEASURES:
        if measure not in rows.columns:
            rows = rows.with_columns(pl.lit(None, pl.Float64).alias(measure))
    return (
        rows.with_columns(
            pl.lit(cycle, pl.Date).alias("cycle"),
            pl.col("cause").is_in(list(LEVELS)).alias("is_level"),
            pl.col("cause").replace_strict(notes, default=None, return_dtype=pl.String).alias("note"),
        )
        .select([pl.col(c).cast(t) for c, t in PLAN_BRIDGE_SCHEMA.items()])
        .sort("family", "cause_order", nulls_last=False)
    )


def demand_notes(previous_cycle: date | None, cycle: date | None, prices_recorded: bool) -> dict[str, str]:
    """The note of each cause, the same on every family's row (without cycles: the definitions in docs/pack.md)."""
    then = f"{previous_cycle:%Y-%m}" if previous_cycle else "the previous cycle"
    now = f"{cycle:%Y-%m}" if cycle else "this cycle"
    notes = {
        "previous_plan": f"the plan locked in {'cycle ' if previous_cycle else ''}{then}, over its horizon, at its "
                         "cycle's prices",
        "rolled_off": "its months before this cycle, which left the horizon",
        "rolled_on": "this plan's months after the previous plan's last one",
        "actuals": f"last month's surprise (actual − forecast, 0 in a stockout month) × α = {SURPRISE_CARRY:g} "
                   "(the level weight of simple exponential smoothing) × the overlap months, clipped to the "
                   "forecast change",
        "model": "the rest of the forecast change: re-estimation",
        "events": "change in event uplift",
        "overrides": "change in planner overrides",
        "new_skus": "SKUs new to the plan, over the overlap months",
        "discontinued_skus": "SKUs no longer in the plan, over the overlap months",
        "price_cost": "this plan's units × (this cycle's price − last cycle's); every other cause is valued at "
                      "last cycle's prices",
        "stock_and_orders": "purchases and cash only",
        "residual": "what the causes do not explain (a consensus clamped at zero)",
        "current_plan": f"the plan locked in {'cycle ' if cycle else ''}{now}, at this cycle's prices",
    }
    if not prices_recorded:
        notes["price_cost"] = f"no prices recorded for cycle {then}: both plans valued at this cycle's prices"
        notes["previous_plan"] = f"the plan locked in cycle {then}, over its horizon, at this cycle's prices"
    return notes


def demand_bridge(
    previous_plan: pl.DataFrame,
    current_plan: pl.DataFrame,
    actuals: pl.DataFrame,
    prices_then: pl.DataFrame | None,
    prices_now: pl.DataFrame,
    cycle: date,
) -> pl.DataFrame:
    """The plan bridge (PLAN_BRIDGE_SCHEMA) for demand units and value; the supply measures null.

    Plans: one row per SKU and month (`sku, family, month, forecast, event_uplift, override_units,
    consensus, p10, p90`), as `current_plan` reads them. `actuals`: `sku, month, units, is_stockout` per SKU
    (channels summed). Prices: `sku, unit_price, unit_cost`; `prices_then` None when last cycle's were not
    recorded. Empty when there is no previous plan.
    """
    if previous_plan.is_empty():
        return pl.DataFrame(schema=PLAN_BRIDGE_SCHEMA)
    causes = sku_causes(previous_plan, current_plan, actuals)
    now = _prices(prices_now).select("sku", pl.col("unit_price").alias("price_now"))
    recorded = prices_then is not None and not prices_then.is_empty()
    then = _prices(prices_then if recorded else prices_now).select("sku", pl.col("unit_price").alias("price_then"))
    priced = causes.join(now, on="sku", how="left").join(then, on="sku", how="left").with_columns(
        pl.coalesce("price_now", "price_then", pl.lit(0.0)).alias("price_now"),
        pl.coalesce("price_then", "price_now", pl.lit(0.0)).alias("price_then"),
    )
    units = {"previous_plan": pl.col("previous_units"), "current_plan": pl.col("current_units"),
             "price_cost": pl.lit(0.0), "stock_and_orders": pl.lit(0.0),
             **{c: pl.col(c) for c in _UNIT_CAUSES}}
    value = {c: u * pl.col("price_then") for c, u in units.items()}
    value["current_plan"] = pl.col("current_units") * pl.col("price_now")
    value["price_cost"] = pl.col("current_units") * (pl.col("price_now") - pl.col("price_then"))
    long = pl.concat([
        priced.select("sku", "family", pl.lit(c).alias("cause"), units[c].alias("demand_units"),
                      value[c].alias("demand_value"))
        for c in CAUSES
    ])
    per_family = long.group_by("family", "cause").agg(
        pl.col("demand_units").sort().sum(), pl.col("demand_value").sort().sum()
    )
    previous_cycle = previous_plan["month"].min()
    families = sorted(causes["family"].unique().to_list())
    return _frame_rows(per_family, families, cycle, demand_notes(previous_cycle, cycle, recorded))


# ---------------------------------------------------------------------------------------------------------
# Purchases and cash: the substitution walk


@dataclass(frozen=True)
class SupplyLevel:
    """One cycle's central buy plan and cash need: `orders` (`sku, family, order_value`) and the peaks."""

    orders: pl.DataFrame
    peak_cash_need: float
    peak_inventory_cash_need: float


def supply_level(result: ScenarioResult) -> SupplyLevel:
    """The level of one `run_scenario` result."""
    return SupplyLevel(
        orders=result.planned_orders.select("sku", "family", "order_value"),
        peak_cash_need=float(result.summary["peak_cash_need"] or 0.0),
        peak_inventory_cash_need=float(result.summary["peak_inventory_cash_need"] or 0.0),
    )


def walk_states(previous_plan: pl.DataFrame, current_plan: pl.DataFrame) -> list[pl.DataFrame]:
    """The six plans of the walk (module docstring), each `sku, month, p10, consensus, p90`, sorted."""
    rows = _joined(previous_plan, current_plan)
    kind, month = pl.col("sku_kind"), pl.col("month_kind")
    in_previous = (kind != "new") & (month == "overlap")
    common = (kind == "common") & (month == "overlap")
    rolled_on = (month == "on") & (kind != "discontinued")
    step1 = pl.when(in_previous).then(pl.col("consensus_p"))
    step2 = pl.when(rolled_on).then(pl.col("consensus_c")).otherwise(step1)
    moved = pl.col("consensus_p")
    states = [step1, step2]
    for column in ("forecast", "event_uplift", "override_units"):
        moved = moved + pl.col(f"{column}_c") - pl.col(f"{column}_p")
        states.append(pl.when(common).then(moved.clip(lower_bound=0.0)).otherwise(step2))
    # The band's ratios: this plan's row where it plans demand, else the previous plan's, else no width.
    ratio = {
        p: pl.when(pl.col("consensus_c") > 0).then(pl.col(f"{p}_c") / pl.col("consensus_c"))
        .when(pl.col("consensus_p") > 0).then(pl.col(f"{p}_p") / pl.col("consensus_p")).otherwise(1.0)
        for p in ("p10", "p90")
    }
    plans = []
    for state in states:
        c = pl.col("consensus")
        plans.append(
            rows.with_columns(state.alias("consensus"))
            .filter(pl.col("consensus").is_not_null())
            .select("sku", "month",
                    pl.min_horizontal(c * ratio["p10"], c).clip(lower_bound=0.0).alias("p10"), "consensus",
                    pl.max_horizontal(c * ratio["p90"], c).alias("p90"))
            .sort("sku", "month")
        )
    plans.append(current_plan.select(
        pl.col("sku").cast(pl.String), pl.col("month").cast(pl.Date),
        *[pl.col(c).cast(pl.Float64) for c in ("p10", "consensus", "p90")],
    ).sort("sku", "month"))
    return plans


def _order_values(levels: list[pl.DataFrame]) -> pl.DataFrame:
    """`sku, family, v0..vn`: each level's order value per SKU (0 where it has none)."""
    frames = [
        orders.group_by("sku").agg(
            pl.col("family").sort().first().alias(f"family{i}"), _sum(pl.col("order_value"), f"v{i}"),
        )
        for i, orders in enumerate(levels)
    ]
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.join(frame, on="sku", how="full", coalesce=True)
    return joined.with_columns(
        pl.coalesce(*[f"family{i}" for i in range(len(levels))]).alias("order_family"),
        *[pl.col(f"v{i}").fill_null(0.0) for i in range(len(levels))],
    ).sort("sku")


def _share(part: float, whole: float) -> float:
    return part / whole if whole != 0 else 0.0


def supply_bridge(
    inputs: SupplyInputs,
    scenario: Scenario,
    previous_plan: pl.DataFrame,
    current_plan: pl.DataFrame,
    actuals: pl.DataFrame,
    previous_level: SupplyLevel,
    current_level: SupplyLevel,
) -> pl.DataFrame:
    """`family, cause, purchase_value, peak_cash_need, peak_inventory_cash_need`: the walk's causes and the
    levels per family (peaks on the total row only, family null), six `run_scenario` calls on `inputs` with
    the plan replaced (module docstring). Together with `demand_bridge` via `with_supply_bridge`."""
    causes = sku_causes(previous_plan, current_plan, actuals)
    results = [run_scenario(replace(inputs, plan=plan), scenario) for plan in walk_states(previous_plan, current_plan)]
    states = [supply_level(r) for r in results]
    levels = [previous_level, *states, current_level]
    values = _order_values([level.orders for level in levels]).join(
        causes.select("sku", "family", "sku_kind", "actuals", "forecast_change"), on="sku", how="left"
    ).with_columns(pl.coalesce("family", "order_family", pl.lit(NO_FAMILY)).alias("family"))
    step = {name: pl.col(f"v{i + 1}") - pl.col(f"v{i}") for i, name in enumerate(_STEPS)}
    share = pl.when(pl.col("forecast_change") != 0).then(pl.col("actuals") / pl.col("forecast_change")) \
        .otherwise(0.0).fill_null(0.0)
    kind = pl.col("sku_kind")
    last = len(levels) - 1
    purchase = {
        "previous_plan": pl.col("v0"),
        "stock_and_orders": step["stock_and_orders"],
        "rolled_on": step["rolled_on"],
        "actuals": step["forecast"] * share,
        "model": step["forecast"] - step["forecast"] * share,
        "events": step["events"],
        "overrides": step["overrides"],
        "new_skus": pl.when(kind == "new").then(step["skus"]).otherwise(0.0),
        "discontinued_skus": pl.when(kind == "discontinued").then(step["skus"]).otherwise(0.0),
        "residual": pl.when(kind.is_in(["new", "discontinued"])).then(0.0).otherwise(step["skus"])
        + pl.col(f"v{last}") - pl.col(f"v{last - 1}"),
        "current_plan": pl.col(f"v{last}"),
    }
    long = pl.concat([
        values.select("sku", "family", pl.lit(c).alias("cause"), e.alias("purchase_value"))
        for c, e in purchase.items()
    ])
    per_family = long.group_by("family", "cause").agg(pl.col("purchase_value").sort().sum())
    total_units = causes.filter(pl.col("sku_kind") == "common")
    forecast_share = _share(float(total_units["actuals"].sort().sum()),
                            float(total_units["forecast_change"].sort().sum()))
    new_units = float(causes["new_skus"].sort().sum())
    gone_units = float(causes["discontinued_skus"].sort().sum())
    if new_units + gone_units != 0:
        new_share = new_units / (new_units + gone_units)
    elif new_units or gone_units:
        new_share = abs(new_units) / (abs(new_units) + abs(gone_units))
    else:
        new_share = None  # no SKU came or went: the step is all residual
    peaks = []
    for measure in ("peak_cash_need", "peak_inventory_cash_need"):
        v = [getattr(level, measure) for level in levels]
        d = {name: v[i + 1] - v[i] for i, name in enumerate(_STEPS)}
        sku_step = d["skus"]
        peaks.append({
            "previous_plan": v[0], "rolled_off": 0.0, "stock_and_orders": d["stock_and_orders"],
            "rolled_on": d["rolled_on"], "actuals": d["forecast"] * forecast_share,
            "model": d["forecast"] - d["forecast"] * forecast_share, "events": d["events"],
            "overrides": d["overrides"],
            "new_skus": sku_step * new_share if new_share is not None else 0.0,
            "discontinued_skus": sku_step - sku_step * new_share if new_share is not None else 0.0,
            "price_cost": 0.0,
            "residual": (0.0 if new_share is not None else sku_step) + v[last] - v[last - 1],
            "current_plan": v[last],
        })
    total = pl.DataFrame({
        "family": [None] * len(CAUSES), "cause": list(CAUSES),
        "peak_cash_need": [peaks[0][c] for c in CAUSES],
        "peak_inventory_cash_need": [peaks[1][c] for c in CAUSES],
    }, schema={"family": pl.String, "cause": pl.String, "peak_cash_need": pl.Float64,
               "peak_inventory_cash_need": pl.Float64})
    families = sorted(values["family"].unique().to_list())
    grid = pl.DataFrame({"family": families}, schema={"family": pl.String}).join(
        pl.DataFrame({"cause": list(CAUSES)}), how="cross"
    ).join(per_family, on=["family", "cause"], how="left").with_columns(pl.col("purchase_value").fill_null(0.0))
    total_purchase = grid.group_by("cause").agg(pl.col("purchase_value").sort().sum())
    total = total.join(total_purchase, on="cause", how="left")
    return pl.concat([total, grid], how="diagonal_relaxed").select(
        "family", "cause", *SUPPLY_MEASURES
    ).sort("family", pl.col("cause").replace_strict(list(CAUSES), list(range(len(CAUSES)))), nulls_last=False)


SUPPLY_NOTES = {
    "rolled_off": "; purchases and cash: 0, the month that left is inside stock_and_orders",
    "actuals": "; purchases split per SKU by its units split, the peaks by the total's",
    "model": "; purchases split per SKU by its units split, the peaks by the total's",
    "new_skus": "; purchases: the new SKUs' own orders, the peaks in proportion to units",
    "discontinued_skus": "; purchases: the discontinued SKUs' own orders, the peaks in proportion to units",
    "price_cost": "; purchases and cash: 0, this cycle's costs and prices are inside stock_and_orders",
    "stock_and_orders": ": the previous plan on this cycle's stock, open POs, lead times, costs and prices, "
                        "minus the previous cycle's published buy plan",
    "residual": "; purchases and cash: the published current numbers − the walk's last state, and SKUs of "
                "both plans moving in the last step",
}


def cause_definitions() -> dict[str, str]:
    """Every cause as the table in docs/pack.md defines it: the rows' own notes, with what each means for purchases
    and cash, so the table and the notes cannot say different things."""
    notes = demand_notes(None, None, prices_recorded=True)
    return {cause: notes[cause] + SUPPLY_NOTES.get(cause, "") for cause in CAUSES}


def with_supply_bridge(bridge: pl.DataFrame, supply: pl.DataFrame) -> pl.DataFrame:
    """`bridge` (from `demand_bridge`) with its purchase and cash measures from `supply_bridge`; a family
    only one of them has gets zeros for the other's measures."""
    if bridge.is_empty():
        return bridge
    cycle = bridge["cycle"][0]
    notes = dict(zip(bridge.filter(pl.col("family").is_null())["cause"],
                     bridge.filter(pl.col("family").is_null())["note"], strict=True))
    notes = {c: (n or "") + SUPPLY_NOTES.get(c, "") for c, n in notes.items()}
    demand = bridge.select("family", "cause", "cause_order", *DEMAND_MEASURES)
    rows = demand.join(supply, on=["family", "cause"], how="full", coalesce=True, nulls_equal=True)
    orders = dict(zip(CAUSES, range(1, len(CAUSES) + 1), strict=True))
    rows = rows.with_columns(
        pl.col("cause").replace_strict(orders, return_dtype=pl.Int32).alias("cause_order"),
        *[pl.col(m).fill_null(0.0) for m in (*DEMAND_MEASURES, "purchase_value")],
    )
    return _finish(rows, cycle, notes)


def without_supply(bridge: pl.DataFrame, reason: str) -> pl.DataFrame:
    """`bridge` with the reason its purchase and cash measures are null in the note of `stock_and_orders`."""
    return bridge.with_columns(
        pl.when(pl.col("cause") == "stock_and_orders").then(pl.col("note") + pl.lit(f"; not bridged: {reason}"))
        .otherwise(pl.col("note")).alias("note")
    )


# ---------------------------------------------------------------------------------------------------------
# Wiring: what the pack asset calls


def record_plan_prices(con: duckdb.DuckDBPyConnection, cycle: date, products: pl.DataFrame) -> None:
    """Remember this cycle's prices and costs, so that next cycle's bridge can value last cycle's plan."""
    frame = products.select(pl.lit(cycle, pl.Date).alias("cycle"),
                            *[pl.col(c).cast(t) for c, t in PRICES_COLUMNS.items()]).sort("sku")
    insert_rows(con, PRICES_SCHEMA, PRICES_TABLE, frame, before=("DELETE FROM {table} WHERE cycle = ?", [cycle]))


@dataclass(frozen=True)
class BridgeInputs:
    cycle: date
    previous_cycle: date | None
    previous_plan: pl.DataFrame
    current_plan: pl.DataFrame
    actuals: pl.DataFrame  # sku, month, units, is_stockout of the months that rolled off
    prices_then: pl.DataFrame | None
    prices_now: pl.DataFrame
    previous_level: SupplyLevel | None
    current_level: SupplyLevel | None
    missing_supply: str | None  # why the purchase and cash measures are null


def read_supply_level(con: duckdb.DuckDBPyConnection, cycle: date) -> SupplyLevel | None:
    """The published central buy plan and peaks of a cycle; None when it has no central scenario row."""
    if not table_columns(con, "sop", "scenario_summary") or not table_columns(con, "sop", "planned_orders"):
        return None
    summary = con.execute(
        "SELECT peak_cash_need, peak_inventory_cash_need FROM sop.scenario_summary WHERE cycle = ? AND scenario = ?",
        [cycle, CENTRAL],
    ).fetchall()
    if not summary:
        return None
    orders = fetch_frame(
        con, "SELECT sku, family, order_value FROM sop.planned_orders WHERE cycle = ? AND scenario = ? "
        "ORDER BY sku, receipt_month, order_value", [cycle, CENTRAL],
    )
    return SupplyLevel(orders=orders, peak_cash_need=float(summary[0][0] or 0.0),
                       peak_inventory_cash_need=float(summary[0][1] or 0.0))


def _previous_cycle(con: duckdb.DuckDBPyConnection, cycle: date) -> date | None:
    if not table_columns(con, PLAN_SCHEMA, PLAN_TABLE):
        return None
    return con.execute(
        f"SELECT max(cycle) FROM {qualified(PLAN_SCHEMA, PLAN_TABLE)} WHERE cycle < ? AND is_current", [cycle]
    ).fetchall()[0][0]


def read_bridge_inputs(con: duckdb.DuckDBPyConnection, cycle: date) -> BridgeInputs:
    """Everything the bridge reads but the supply inputs (`read_supply_inputs`), every read ordered."""
    from sop_pipeline.supply.forecast_only import is_forecast_only

    previous = _previous_cycle(con, cycle)
    plan = current_plan(con, cycle)
    previous_plan = current_plan(con, previous) if previous else plan.clear()
    products = fetch_frame(con, "SELECT sku, unit_price, unit_cost FROM marts.dim_products ORDER BY sku")
    actuals = fetch_frame(
        con, "SELECT sku, month, units, is_stockout FROM marts.fct_demand_monthly WHERE month >= ? AND month < ? "
        "ORDER BY sku, month, channel", [previous or cycle, cycle],
    ).group_by("sku", "month").agg(pl.col("units").sort().sum(), pl.col("is_stockout").any()).sort("sku", "month")
    prices_then = None
    if previous and table_columns(con, PRICES_SCHEMA, PRICES_TABLE):
        prices_then = fetch_frame(
            con, f"SELECT sku, unit_price, unit_cost FROM {qualified(PRICES_SCHEMA, PRICES_TABLE)} "
            "WHERE cycle = ? ORDER BY sku", [previous],
        )
        prices_then = prices_then if prices_then.height else None
    current_level = None if is_forecast_only(con, cycle) else read_supply_level(con, cycle)
    previous_level = read_supply_level(con, previous) if previous else None
    missing = None
    if current_level is None:
        missing = f"cycle {cycle:%Y-%m} has no supply review (forecast-only mode or no central scenario)"
    elif previous_level is None:
        missing = (f"the previous cycle {previous:%Y-%m} has no central scenario results" if previous
                   else "no previous cycle")
    return BridgeInputs(cycle=cycle, previous_cycle=previous, previous_plan=previous_plan, current_plan=plan,
                        actuals=actuals, prices_then=prices_then, prices_now=products,
                        previous_level=previous_level, current_level=current_level, missing_supply=missing)


def central_scenario(scenarios: tuple[Scenario, ...]) -> Scenario:
    return next(s for s in scenarios if s.name == CENTRAL)


def compute_plan_bridge(con, sop: SopConfig, cycle: date) -> pl.DataFrame:
    """The cycle's plan bridge (PLAN_BRIDGE_SCHEMA) read through `con`; empty on a first cycle."""
    from sop_pipeline.scenario_run import read_scenario_inputs
    from sop_pipeline.scenarios import load_scenarios

    data = read_bridge_inputs(con, cycle)
    if data.previous_cycle is None or data.previous_plan.is_empty() or data.current_plan.is_empty():
        return pl.DataFrame(schema=PLAN_BRIDGE_SCHEMA)
    bridge = demand_bridge(data.previous_plan, data.current_plan, data.actuals, data.prices_then, data.prices_now,
                           cycle)
    if data.missing_supply is not None:
        return without_supply(bridge, data.missing_supply)
    inputs = read_scenario_inputs(con, cycle, sop)
    supply = supply_bridge(inputs, central_scenario(load_scenarios(sop.scenarios_path)),
                           data.previous_plan, data.current_plan, data.actuals, data.previous_level,
                           data.current_level)
    return with_supply_bridge(bridge, supply)
