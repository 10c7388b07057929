"""Consensus demand plan (SPEC §6): chosen forecast + events uplift + planner overrides, with time fences.

One rule, `apply_consensus`, serves the live plan and the backtest origins, so the consensus step of the FVA
scorecard measures exactly what the planners do each cycle. Changes inside the frozen fence are flagged,
never blocked. The rules where the spec is silent (events, overrides, band, fences): docs/plan.md,
*The consensus rules*.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import polars as pl

from sop_pipeline.forecast.backtest import BACKTEST_SCHEMA
from sop_pipeline.forecast.events import EVENT_UPLIFT_SCHEMA, conform
from sop_pipeline.forecast.history import lag_expr

EVENT_AWARE_METHODS = ("lightgbm",)
FROZEN_TOLERANCE = 0.10
MIN_CHANGE_UNITS = 0.5  # a smaller change of a frozen month is rounding, not a change
_EPSILON = 1e-9  # float noise at the tolerance edge is not a change

OVERRIDES_SCHEMA = {
    "cycle": pl.Date, "sku": pl.String, "family": pl.String, "month": pl.Date,
    "quantity": pl.Float64, "percent": pl.Float64, "reason": pl.String, "owner": pl.String,
}
# What `apply_consensus` adds to its base, in this order.
CONSENSUS_SCHEMA = {
    "event_uplift": pl.Float64, "event_ids": pl.String, "override_units": pl.Float64, "override_type": pl.String,
    "override_level": pl.String, "override_reason": pl.String, "override_owner": pl.String,
    "consensus": pl.Float64,
}
DEMAND_PLAN_SCHEMA = {
    "sku": pl.String, "family": pl.String, "month": pl.Date, "horizon_month": pl.Int32, "time_fence": pl.String,
    "step": pl.String, "method": pl.String, "forecast": pl.Float64,
    **CONSENSUS_SCHEMA,
    "p10": pl.Float64, "p90": pl.Float64, "previous_plan": pl.Float64, "change_vs_previous": pl.Float64,
    "is_frozen_change": pl.Boolean,
}
UNAPPLIED_SCHEMA = {**OVERRIDES_SCHEMA, "unapplied_because": pl.String}

_FENCES = ("frozen", "flexible", "strategic")  # a plan month is never 'history'
_KEY = ["_cycle", "sku", "month"]  # one consensus per cycle (or backtest origin), SKU and month
_FAMILY_MONTH = ["_cycle", "_family", "month"]


def _check_unique(frame: pl.DataFrame, key: list[str], what: str) -> None:
    if frame.select(key).is_duplicated().any():
        raise ValueError(f"{what} must have one row per {', '.join(k.lstrip('_') for k in key)}")


def _cycle_overrides(overrides: pl.DataFrame, cycles: pl.Series) -> pl.DataFrame:
    """The overrides landed for `cycles`, typed, each with a row id `_override`."""
    return (
        conform(overrides, OVERRIDES_SCHEMA)
        .filter(pl.col("cycle").is_in(cycles.implode()))
        .with_row_index("_override")
    )


def _with_overrides(base: pl.DataFrame, products: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """`base` (keyed by `_KEY`) plus each row's `_family` and the SKU-level (`_sku_*`) and family-level
    (`_fam_*`) override of its cycle and month, if any. An override filling neither quantity nor percent
    is no override."""
    families = products.select(pl.col("sku").cast(pl.String), pl.col("family").cast(pl.String).alias("_family"))
    usable = overrides.filter(pl.col("quantity").is_not_null() | pl.col("percent").is_not_null())
    fields = ["quantity", "percent", "reason", "owner", "_override"]
    by_sku = usable.filter(pl.col("sku").is_not_null()).select(
        pl.col("cycle").alias("_cycle"), "sku", "month", *[pl.col(f).alias(f"_sku{f}") for f in fields]
    )
    by_family = usable.filter(pl.col("sku").is_null() & pl.col("family").is_not_null()).select(
        pl.col("cycle").alias("_cycle"), pl.col("family").alias("_family"), "month",
        *[pl.col(f).alias(f"_fam{f}") for f in fields],
    )
    return (
        base.join(families.unique("sku"), on="sku", how="left")
        .join(by_sku, on=_KEY, how="left")
        .join(by_family, on=_FAMILY_MONTH, how="left")
    )


def _consensus(
    base: pl.DataFrame,
    products: pl.DataFrame,
    uplift: pl.DataFrame,
    overrides: pl.DataFrame,
    event_aware_methods: Collection[str],
) -> pl.DataFrame:
    """The consensus rule on a base keyed by `_KEY` (`_cycle, sku, month, method, forecast`): the base
    columns plus CONSENSUS_SCHEMA. `overrides` come from `_cycle_overrides`."""
    _check_unique(base, _KEY, "the base forecast")
    events = conform(uplift, EVENT_UPLIFT_SCHEMA).rename({"uplift": "_uplift", "event_ids": "_event_ids"})
    forecast = pl.col("forecast").cast(pl.Float64)
    event_uplift = pl.when(pl.col("method").is_in(list(event_aware_methods))).then(0.0).otherwise(
        # Several negative events cannot take the month below zero.
        pl.max_horizontal(forecast * pl.col("_uplift").fill_null(0.0), -forecast.clip(lower_bound=0.0))
    )
    frame = (
        _with_overrides(base.join(events, on=["sku", "month"], how="left"), products, overrides)
        .with_columns(event_uplift.alias("event_uplift"))
        .with_columns((forecast + pl.col("event_uplift")).alias("_adjusted"))
    )
    on_sku = pl.col("_sku_override").is_not_null()
    on_family = pl.col("_fam_override").is_not_null() & ~on_sku
    winner = {f: pl.when(on_sku).then(pl.col(f"_sku{f}")).when(on_family).then(pl.col(f"_fam{f}"))
              for f in ("quantity", "percent", "reason", "owner")}
    spread = on_family & pl.col("_famquantity").is_not_null()
    weight = pl.when(spread).then(pl.col("_adjusted").clip(lower_bound=0.0))
    total = weight.sort().sum().over(_FAMILY_MONTH)
    share = pl.when(total > 0).then(weight / total).otherwise(1.0 / spread.sum().over(_FAMILY_MONTH))
    consensus = (
        pl.when(on_sku & winner["quantity"].is_not_null()).then(winner["quantity"])
        .when(spread).then(winner["quantity"] * share)
        .when(winner["percent"].is_not_null()).then(pl.col("_adjusted") * (1.0 + winner["percent"]))
        .otherwise(pl.col("_adjusted"))
        .clip(lower_bound=0.0)
    )
    overridden = on_sku | on_family
    return (
        frame.with_columns(
            pl.col("_event_ids").alias("event_ids"),
            pl.when(winner["quantity"].is_not_null()).then(pl.lit("quantity"))
            .when(winner["percent"].is_not_null()).then(pl.lit("percent")).alias("override_type"),
            pl.when(on_sku).then(pl.lit("sku")).when(on_family).then(pl.lit("family")).alias("override_level"),
            winner["reason"].alias("override_reason"),
            winner["owner"].alias("override_owner"),
            consensus.alias("consensus"),
        )
        .with_columns(
            pl.when(overridden).then(pl.col("consensus") - pl.col("_adjusted")).otherwise(0.0).alias("override_units")
        )
        .select(*base.columns, *CONSENSUS_SCHEMA)
        .cast(CONSENSUS_SCHEMA)
    )


def apply_consensus(
    base: pl.DataFrame,
    cycle: date,
    products: pl.DataFrame,
    uplift: pl.DataFrame,
    overrides: pl.DataFrame,
    event_aware_methods: Collection[str] = EVENT_AWARE_METHODS,
) -> pl.DataFrame:
    """One row per row of `base` (`sku, month, method, forecast`, one row per SKU and month), sorted by SKU
    and month: its columns plus `event_uplift, event_ids, override_units, override_type, override_level,
    override_reason, override_owner, consensus` (units; `override_units` = consensus − forecast − uplift).

    `uplift` comes from `monthly_event_uplift`; `overrides` is the overrides table of every cycle, of which
    only `cycle`'s rows apply; `products` gives each SKU's family.
    """
    keyed = base.with_columns(pl.lit(cycle, pl.Date).alias("_cycle"))
    chosen = _cycle_overrides(overrides, pl.Series([cycle], dtype=pl.Date))
    result = _consensus(keyed, products, uplift, chosen, event_aware_methods)
    return result.drop("_cycle").sort("sku", "month")


def unapplied_overrides(
    base: pl.DataFrame, cycle: date, products: pl.DataFrame, overrides: pl.DataFrame
) -> pl.DataFrame:
    """The overrides of `cycle` that changed no row of `base`: their columns plus `unapplied_because`, sorted
    by SKU, family and month, so the caller can warn. A family override beaten by SKU-level overrides on
    every SKU of the family that month counts as unapplied too: the family number was not used.
    """
    keyed = base.select(pl.col("sku").cast(pl.String), "month").with_columns(pl.lit(cycle, pl.Date).alias("_cycle"))
    chosen = _cycle_overrides(overrides, pl.Series([cycle], dtype=pl.Date))
    matched = _with_overrides(keyed, products, chosen)
    used = pl.concat([
        matched.filter(pl.col("_sku_override").is_not_null()).select(pl.col("_sku_override").alias("_override")),
        matched.filter(pl.col("_sku_override").is_null() & pl.col("_fam_override").is_not_null())
        .select(pl.col("_fam_override").alias("_override")),
    ])
    planned_months = keyed.select("month").unique().with_columns(pl.lit(True).alias("_month_planned"))
    planned_skus = keyed.select("sku", "month").unique().with_columns(pl.lit(True).alias("_sku_planned"))
    planned_families = (
        matched.filter(pl.col("_family").is_not_null()).select(pl.col("_family").alias("family"), "month").unique()
        .with_columns(pl.lit(True).alias("_family_planned"))
    )
    because = (
        pl.when(pl.col("quantity").is_null() & pl.col("percent").is_null()).then(pl.lit("neither quantity nor percent"))
        .when(pl.col("_month_planned").is_null()).then(pl.lit("month outside the plan's horizon"))
        .when(pl.col("sku").is_not_null() & pl.col("_sku_planned").is_null())
        .then(pl.lit("SKU not in the plan that month"))
        .when(pl.col("sku").is_null() & pl.col("_family_planned").is_null())
        .then(pl.lit("no SKU of the family in the plan that month"))
        .otherwise(pl.lit("every SKU of the family that month has a SKU-level override"))
    )
    return (
        chosen.join(used, on="_override", how="anti")
        .join(planned_months, on="month", how="left")
        .join(planned_skus, on=["sku", "month"], how="left")
        .join(planned_families, on=["family", "month"], how="left")
        .with_columns(because.alias("unapplied_because"))
        .select(list(UNAPPLIED_SCHEMA))
        .cast(UNAPPLIED_SCHEMA)
        .sort("sku", "family", "month", nulls_last=True)
    )


def _consensus_band() -> tuple[pl.Expr, pl.Expr]:
    """p10 and p90 moved with the consensus, clipped so that 0 ≤ p10 ≤ consensus ≤ p90."""
    forecast, consensus = pl.col("forecast"), pl.col("consensus")
    moved = [
        pl.when(forecast > 0).then(pl.col(p) * consensus / forecast).otherwise(pl.col(p) + consensus - forecast)
        for p in ("p10", "p90")
    ]
    p10 = pl.min_horizontal(moved[0], consensus).clip(lower_bound=0.0)
    p90 = pl.max_horizontal(moved[1], consensus)
    return p10.alias("p10"), p90.alias("p90")


def _fences(calendar: pl.DataFrame, planned: pl.DataFrame) -> pl.DataFrame:
    """`month, time_fence` of every month of `planned`, from the calendar. A month the calendar does not
    fence (a horizon longer than the fact base's) would silently escape the frozen-change flag, so it fails."""
    fences = calendar.select("month", pl.col("time_fence").cast(pl.String)).unique()
    _check_unique(fences, ["month"], "the calendar")
    horizon = fences.filter(pl.col("time_fence").is_in(_FENCES))
    unfenced = planned.select("month").unique().join(horizon, on="month", how="anti")
    if not unfenced.is_empty():
        months = ", ".join(m.isoformat() for m in unfenced["month"].sort())
        raise ValueError(f"the calendar gives no horizon fence for planned month(s) {months}")
    return horizon


def build_demand_plan(
    forecast: pl.DataFrame,
    cycle: date,
    products: pl.DataFrame,
    uplift: pl.DataFrame,
    overrides: pl.DataFrame,
    calendar: pl.DataFrame,
    previous_plan: pl.DataFrame | None = None,
    event_aware_methods: Collection[str] = EVENT_AWARE_METHODS,
    frozen_tolerance: float = FROZEN_TOLERANCE,
) -> pl.DataFrame:
    """One row per SKU and month of the horizon, with DEMAND_PLAN_SCHEMA: the consensus demand plan.

    `forecast` is the production forecast (`sku, month, step, method, p10, p50, p90`); its p50 is the
    `forecast` the consensus starts from. `calendar` (`month, time_fence`, the cycle's `marts.dim_calendar`)
    gives each month its fence; a planned month missing from it is an error, not a guess. `previous_plan` is
    the previous cycle's locked plan (`sku, month, consensus`), against which changes are measured and
    flagged inside the frozen fence.
    """
    base = forecast.with_columns(
        pl.col("sku").cast(pl.String), pl.col("p50").cast(pl.Float64).alias("forecast"),
        lag_expr(cycle).cast(pl.Int32).alias("horizon_month"),
    )
    if (base["horizon_month"] < 1).any():
        raise ValueError(f"the forecast of cycle {cycle} has months before the cycle")
    planned = apply_consensus(base, cycle, products, uplift, overrides, event_aware_methods)
    fences = _fences(calendar, planned)
    previous = (
        previous_plan.select(pl.col("sku").cast(pl.String), "month", pl.col("consensus").alias("previous_plan"))
        if previous_plan is not None
        else pl.DataFrame(schema={"sku": pl.String, "month": pl.Date, "previous_plan": pl.Float64})
    )
    families = products.select(pl.col("sku").cast(pl.String), pl.col("family").cast(pl.String)).unique("sku")
    change = pl.col("change_vs_previous").abs()
    frozen_change = (
        (pl.col("time_fence") == "frozen")
        & pl.col("previous_plan").is_not_null()
        & (change > frozen_tolerance * pl.col("previous_plan") + _EPSILON)
        & (change > MIN_CHANGE_UNITS)
    )
    return (
        planned.drop("family", strict=False)
        .join(families, on="sku", how="left")
        .join(previous, on=["sku", "month"], how="left")
        .join(fences, on="month", how="left")
        .with_columns(
            *_consensus_band(),
            (pl.col("consensus") - pl.col("previous_plan")).alias("change_vs_previous"),
        )
        .with_columns(frozen_change.fill_null(False).alias("is_frozen_change"))
        .select([pl.col(name).cast(dtype) for name, dtype in DEMAND_PLAN_SCHEMA.items()])
        .sort("sku", "month")
    )


def consensus_backtest(
    backtest: pl.DataFrame,
    chosen: pl.DataFrame,
    products: pl.DataFrame,
    uplift: pl.DataFrame,
    overrides: pl.DataFrame,
    event_aware_methods: Collection[str] = EVENT_AWARE_METHODS,
) -> pl.DataFrame:
    """The consensus step replayed on the rolling-origin backtest, with BACKTEST_SCHEMA and method 'consensus':
    one row per backtest row of each SKU's chosen method (`chosen`: `sku, method`, optionally `origin` when
    the choice differs by origin), its forecast replaced by
    the consensus of its origin, as `apply_consensus` with cycle = origin (each origin sees only the
    overrides landed for that cycle). SKUs without a chosen method are absent.
    """
    keys = [c for c in ("sku", "origin", "method") if c in chosen.columns]
    rows = backtest.join(chosen.select(pl.col("sku").cast(pl.String), *keys[1:]).unique(), on=keys, how="semi")
    keyed = rows.with_columns(pl.col("origin").cast(pl.Date).alias("_cycle"))
    cycles = keyed["_cycle"].unique()
    result = _consensus(keyed, products, uplift, _cycle_overrides(overrides, cycles), event_aware_methods)
    return (
        result.with_columns(pl.lit("consensus").alias("method"), pl.col("consensus").alias("forecast"))
        .select([pl.col(name).cast(dtype) for name, dtype in BACKTEST_SCHEMA.items()])
        .sort("origin", "sku", "method", "month")
    )
