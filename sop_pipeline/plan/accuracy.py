"""Plan vs actual (SPEC §6): every locked demand plan scored against the actuals that arrived after it.

Stage by stage (naive → forecast → demand review → executive, and the plan of record's consensus), all on the
same rows; each stage's gain carries the forecast scorecard's bootstrap interval, and a stage whose interval
lies wholly below zero is flagged. Design notes: docs/plan.md, *Plan vs actual: the meetings' FVA*.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.fva import fva_interval
from sop_pipeline.forecast.history import impute_stockouts, monthly_history
from sop_pipeline.forecast.metrics import score

# A consensus this close to the forecast is a rounding difference, not an override.
TOUCH_TOLERANCE = 1e-6

PLAN_VS_ACTUAL_SCHEMA = {
    "plan_cycle": pl.Date,
    "plan_state": pl.String,
    "scored_version": pl.Int32,
    "sku": pl.String,
    "family": pl.String,
    "segment": pl.String,
    "month": pl.Date,
    "lag": pl.Int32,
    "actual": pl.Float64,
    "is_stockout": pl.Boolean,
    "naive": pl.Float64,
    "forecast": pl.Float64,
    "consensus": pl.Float64,
    "demand_review": pl.Float64,
    "executive": pl.Float64,
    "forecast_error": pl.Float64,
    "consensus_error": pl.Float64,
}

# The stages of a cycle scored against actuals, in process order: each meeting is judged against the one before.
STAGES = ("naive", "forecast", "demand_review", "executive")
_STAGE_GAINS = (("forecast", "naive"), ("demand_review", "forecast"), ("executive", "demand_review"))

PLAN_ACCURACY_SCHEMA = {
    "plan_cycle": pl.Date,
    "plan_state": pl.String,
    "scored_version": pl.Int32,
    "segment_type": pl.String,
    "segment": pl.String,
    "lag": pl.Int32,
    "n_scored": pl.Int64,
    "actual": pl.Float64,
    "wmape_naive": pl.Float64,
    "wmape_forecast": pl.Float64,
    "wmape_consensus": pl.Float64,
    "bias_forecast": pl.Float64,
    "bias_consensus": pl.Float64,
    "fva_forecast_vs_naive": pl.Float64,
    "fva_consensus_vs_forecast": pl.Float64,
    "fva_consensus_vs_naive": pl.Float64,
    "wmape_demand_review": pl.Float64,
    "wmape_executive": pl.Float64,
    "bias_executive": pl.Float64,
    "fva_demand_review_vs_forecast": pl.Float64,
    "fva_executive_vs_demand_review": pl.Float64,
    **{f"fva_{stage}_vs_{before}_{end}": pl.Float64 for stage, before in _STAGE_GAINS for end in ("low", "high")},
    **{f"{stage}_worse": pl.Boolean for stage, _ in _STAGE_GAINS},
}

OVERRIDE_VALUE_SCHEMA = {
    "n_touched": pl.Int64,
    "actual": pl.Float64,
    "wmape_forecast": pl.Float64,
    "wmape_consensus": pl.Float64,
    "fva_consensus_vs_forecast": pl.Float64,
    "share_improved": pl.Float64,
}

_STEPS = ("naive", "forecast", "consensus")
_SEGMENT = ["plan_cycle", "segment_type", "segment"]


def _lag_expr() -> pl.Expr:
    """The lag of `month` in the plan of `plan_cycle`: 1 for the plan cycle's own month."""
    year = pl.col("month").dt.year().cast(pl.Int32) - pl.col("plan_cycle").dt.year().cast(pl.Int32)
    month = pl.col("month").dt.month().cast(pl.Int32) - pl.col("plan_cycle").dt.month().cast(pl.Int32)
    return year * 12 + month + 1


def _actuals(history: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU and month of the fact base with known sales: `sku, month, actual, is_stockout`,
    channels summed."""
    frame = history
    if "is_stockout" not in frame.columns:
        frame = frame.with_columns(pl.lit(False).alias("is_stockout"))
    return frame.join(_missing_months(history), on=["sku", "month"], how="anti").group_by("sku", "month").agg(
        pl.col("units").sum().cast(pl.Float64).alias("actual"), pl.col("is_stockout").any()
    )


def _missing_months(history: pl.DataFrame) -> pl.DataFrame:
    """`sku, month` of the months whose sales are unknown: null units on every channel row (the fact
    base's `is_missing`), never to be summed as if nothing sold."""
    return (
        history.group_by("sku", "month").agg(pl.col("units").is_null().all().alias("_missing"))
        .filter(pl.col("_missing")).select(pl.col("sku").cast(pl.String), pl.col("month").cast(pl.Date))
    )


def _unknown_as_null(series: pl.DataFrame, missing: pl.DataFrame) -> pl.DataFrame:
    """`series` (`sku, month, units, ...`) with the units of the missing months null again."""
    flagged = missing.with_columns(pl.lit(True).alias("_missing"))
    return (
        series.join(flagged, on=["sku", "month"], how="left")
        .with_columns(pl.when(pl.col("_missing")).then(None).otherwise(pl.col("units")).alias("units"))
        .drop("_missing")
    )


def _naive(history: pl.DataFrame, plan_cycles: list[date]) -> pl.DataFrame:
    """One row per plan cycle and SKU with history before it: `plan_cycle, sku, naive` (null when the
    month before the plan cycle is unknown and nothing estimates it)."""
    missing = _missing_months(history)
    frames = []
    for plan_cycle in plan_cycles:
        # The same series the naive candidate of that cycle was fitted on: only what was known then, and
        # an unknown month null before the stockout estimate reads its neighbours, never a zero.
        series = impute_stockouts(_unknown_as_null(monthly_history(history, plan_cycle), missing))
        frames.append(
            series.filter(pl.col("month") == add_months(plan_cycle, -1)).select(
                pl.lit(plan_cycle, dtype=pl.Date).alias("plan_cycle"),
                "sku",
                pl.col("units").cast(pl.Float64).alias("naive"),
            )
        )
    if not frames:
        return pl.DataFrame(schema={"plan_cycle": pl.Date, "sku": pl.String, "naive": pl.Float64})
    return pl.concat(frames)


def _attributes(products: pl.DataFrame | None) -> pl.DataFrame:
    """`sku, family, segment` of each product; an attribute the table lacks is null."""
    if products is None:
        return pl.DataFrame(schema={"sku": pl.String, "family": pl.String, "segment": pl.String})
    return products.select(
        pl.col("sku").cast(pl.String),
        *(
            (pl.col(column) if column in products.columns else pl.lit(None)).cast(pl.String).alias(column)
            for column in ("family", "segment")
        ),
    )


def plan_vs_actual(
    plans: pl.DataFrame,
    history: pl.DataFrame,
    cycle: date,
    products: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per plan cycle, SKU and closed month of its plan (plan cycle ≤ month < `cycle`):
    `PLAN_VS_ACTUAL_SCHEMA`.

    `plans` holds the plan of record of each earlier plan (`lock.earlier_plans`: `plan_cycle, sku, month,
    forecast, consensus`, and `plan_state, scored_version, demand_review, executive` when known; plans of
    `cycle` or later are ignored). `history` is the fact base of `cycle` (`sku,
    channel, month, units, is_stockout`; months from `cycle` on are ignored). A SKU-month the fact base
    has no row for sold nothing: its actual is 0. A SKU-month whose units are null (missing: sales unknown)
    has no actual and no row. `products` (`sku, family, segment`) is optional; a SKU it does not know has a
    null family and segment.
    """
    facts = history.filter(pl.col("month") < cycle)
    frame = _with_stages(plans).filter(
        (pl.col("plan_cycle") < cycle) & (pl.col("month") >= pl.col("plan_cycle")) & (pl.col("month") < cycle)
    ).select(
        pl.col("plan_cycle").cast(pl.Date),
        pl.col("plan_state").cast(pl.String),
        pl.col("scored_version").cast(pl.Int32),
        pl.col("sku").cast(pl.String),
        pl.col("month").cast(pl.Date),
        pl.col("forecast").cast(pl.Float64),
        pl.col("consensus").cast(pl.Float64),
        pl.col("demand_review").cast(pl.Float64),
        pl.col("executive").cast(pl.Float64),
    )
    if frame.select(pl.struct("plan_cycle", "sku", "month").is_duplicated().any()).item():
        # Two versions of one plan would count every SKU-month twice; the caller picks the current one.
        raise ValueError("plans must hold one row per plan_cycle, sku and month (the current locked version)")

    plan_cycles = sorted(frame["plan_cycle"].unique().to_list())
    return (
        frame.join(_missing_months(facts), on=["sku", "month"], how="anti")
        .join(_actuals(facts), on=["sku", "month"], how="left")
        .join(_naive(facts, plan_cycles), on=["plan_cycle", "sku"], how="left")
        .join(_attributes(products), on="sku", how="left", validate="m:1")
        .with_columns(
            _lag_expr().alias("lag"),
            pl.col("actual").fill_null(0.0),
            pl.col("is_stockout").fill_null(False),
        )
        .with_columns(
            (pl.col("forecast") - pl.col("actual")).alias("forecast_error"),
            (pl.col("consensus") - pl.col("actual")).alias("consensus_error"),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in PLAN_VS_ACTUAL_SCHEMA.items())
        .sort("plan_cycle", "sku", "month")
    )


def _with_stages(plans: pl.DataFrame) -> pl.DataFrame:
    """`plans` with `plan_state, scored_version, demand_review, executive`. A plan that knows no states (locked
    before they existed) is an approved plan whose demand review, executive meeting and consensus said the
    same number."""
    return plans.with_columns(
        *(pl.lit(value, dtype).alias(name) for name, value, dtype in (
            ("plan_state", "approved", pl.String), ("scored_version", None, pl.Int32)) if name not in plans.columns),
        *(pl.col("consensus").alias(name) for name in ("demand_review", "executive") if name not in plans.columns),
    )


def _segmented(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows repeated once per segment view: total, family, ABC-XYZ segment (unknown ones left out)."""
    return pl.concat(
        [
            rows.with_columns(pl.lit("total").alias("segment_type"), pl.lit("total").alias("segment")),
            rows.filter(pl.col("family").is_not_null()).with_columns(
                pl.lit("family").alias("segment_type"), pl.col("family").alias("segment")
            ),
            rows.filter(pl.col("segment").is_not_null()).with_columns(pl.lit("abc_xyz").alias("segment_type")),
        ],
        how="diagonal_relaxed",
    )


def plan_accuracy(pva: pl.DataFrame, n_boot: int = 200, seed: int = 0) -> pl.DataFrame:
    """The scorecard of earlier plans: one row per plan cycle, segment and lag, `PLAN_ACCURACY_SCHEMA`.

    `pva` is the table of `plan_vs_actual`. Scored rows are the non-stockout SKU-months with a naive,
    a forecast and a consensus value, the same rows for every stage; a group with no such row is absent.
    `fva_forecast_vs_naive` = WMAPE(naive) − WMAPE(forecast), `fva_consensus_vs_forecast` =
    WMAPE(forecast) − WMAPE(consensus), `fva_consensus_vs_naive` = WMAPE(naive) − WMAPE(consensus), and
    for the meetings `fva_demand_review_vs_forecast`, `fva_executive_vs_demand_review` (null while the plan
    is a draft). `<stage>_worse` flags a stage whose gain over the stage before has a bootstrap interval
    (`n_boot` resamples of the plan's SKUs, `seed`) wholly below zero.
    """
    rows = _with_stages(pva).filter(pl.all_horizontal(pl.col(step).is_not_null() for step in _STEPS))
    methods = [*_STEPS, "demand_review", "executive"]
    long = pl.concat(
        [
            rows.filter(pl.col(method).is_not_null()).select(
                "plan_cycle", "family", "segment", "lag", "actual", "is_stockout",
                pl.lit(method).alias("method"), pl.col(method).alias("forecast"),
            )
            for method in methods
        ]
    )
    # `score` drops the stockout months and nulls WMAPE and bias when there is no actual demand.
    scores = score(_segmented(long), by=_SEGMENT)
    if scores.is_empty():
        return pl.DataFrame(schema=PLAN_ACCURACY_SCHEMA)
    wide = scores.pivot(on="method", index=[*_SEGMENT, "lag", "n_scored", "actual_units"], values=["wmape", "bias"])
    wide = wide.with_columns(pl.lit(None, pl.Float64).alias(f"{metric}_{method}") for metric in ("wmape", "bias")
                             for method in methods if f"{metric}_{method}" not in wide.columns)
    states = rows.select("plan_cycle", "plan_state", "scored_version").unique("plan_cycle")
    return (
        wide.with_columns(
            pl.col("actual_units").alias("actual"),
            (pl.col("wmape_naive") - pl.col("wmape_forecast")).alias("fva_forecast_vs_naive"),
            (pl.col("wmape_forecast") - pl.col("wmape_consensus")).alias("fva_consensus_vs_forecast"),
            (pl.col("wmape_naive") - pl.col("wmape_consensus")).alias("fva_consensus_vs_naive"),
            (pl.col("wmape_forecast") - pl.col("wmape_demand_review")).alias("fva_demand_review_vs_forecast"),
            (pl.col("wmape_demand_review") - pl.col("wmape_executive")).alias("fva_executive_vs_demand_review"),
        )
        .join(states, on="plan_cycle", how="left")
        .join(stage_intervals(rows, n_boot, seed), on=[*_SEGMENT, "lag"], how="left")
        .select(pl.col(name).cast(dtype) for name, dtype in PLAN_ACCURACY_SCHEMA.items())
        .sort(*_SEGMENT, "lag")
    )


_INTERVAL_COLUMNS = {f"fva_{stage}_vs_{before}_{end}": pl.Float64
                     for stage, before in _STAGE_GAINS for end in ("low", "high")}


def stage_intervals(rows: pl.DataFrame, n_boot: int = 200, seed: int = 0) -> pl.DataFrame:
    """Per plan cycle, segment and lag: the bootstrap interval of each stage's gain over the stage before
    (`fva_<stage>_vs_<before>_low/high`) and `<stage>_worse` when it lies wholly below zero.

    The forecast scorecard's own bootstrap (`forecast.fva.fva_interval`), each plan cycle one origin, each stage
    one method: the stages are scored on the same resamples, so the differences are paired."""
    key = ["segment_type", "segment", "lag"]
    schema = {"plan_cycle": pl.Date, "segment_type": pl.String, "segment": pl.String, "lag": pl.Int32,
              **_INTERVAL_COLUMNS, **{f"{stage}_worse": pl.Boolean for stage, _ in _STAGE_GAINS}}
    out = [pl.DataFrame(schema=schema)]
    for plan_cycle in sorted(rows["plan_cycle"].unique().to_list()):
        part = rows.filter(pl.col("plan_cycle") == plan_cycle).sort("sku", "month")
        stages = [stage for stage in STAGES if part[stage].is_not_null().all()]
        backtest = pl.concat([
            part.select("sku", pl.col("plan_cycle").alias("origin"), "month", "lag", "actual", "is_stockout",
                        pl.lit(stage).alias("method"), pl.col(stage).alias("forecast"))
            for stage in stages
        ])
        products = part.select("sku", "family", "segment").unique("sku").sort("sku")
        # The segments and lags the bootstrap can score: stockout months are left out there too.
        views = _segmented(part.filter(~pl.col("is_stockout")).select("sku", "family", "segment", "lag").unique())
        fva = views.select("segment_type", "segment", "lag").unique().join(
            pl.DataFrame({"step": stages, "step_order": list(range(len(stages)))}), how="cross"
        ).with_columns(pl.col("step").alias("method"), pl.lit(None, pl.Float64).alias("fva_vs_naive"))
        intervals = fva_interval(backtest, fva, products, n_boot=n_boot, seed=seed, steps=stages)
        wide = intervals.select(*key).unique()
        for stage, before in _STAGE_GAINS:
            name = f"fva_{stage}_vs_{before}"
            bounds = intervals.filter(pl.col("step") == stage).select(
                *key, pl.col("fva_previous_low").alias(f"{name}_low"),
                pl.col("fva_previous_high").alias(f"{name}_high"))
            if before not in stages:  # the stage before was not scored: no gain to bound
                bounds = bounds.with_columns(pl.lit(None, pl.Float64).alias(f"{name}_low"),
                                             pl.lit(None, pl.Float64).alias(f"{name}_high"))
            wide = wide.join(bounds, on=key, how="left").with_columns(
                (pl.col(f"{name}_high") < 0).alias(f"{stage}_worse"))  # null: the stage was not scored
        out.append(wide.with_columns(pl.lit(plan_cycle, pl.Date).alias("plan_cycle")).select(
            pl.col(name).cast(dtype) for name, dtype in schema.items()))
    return pl.concat(out)


def override_value_added(pva: pl.DataFrame) -> pl.DataFrame:
    """Did the overrides and event uplifts pay off? One row, `OVERRIDE_VALUE_SCHEMA`, pooled over every
    plan cycle and lag of `pva` (the table of `plan_vs_actual`).

    Only the touched SKU-months count, those whose consensus differs from the forecast, stockout months
    left out. `share_improved` is the share of them where the consensus missed the actual by strictly
    less than the forecast; a tie is not an improvement. With nothing touched, `n_touched` is 0 and every
    ratio null.
    """
    touched = pva.filter(~pl.col("is_stockout") & ((pl.col("consensus") - pl.col("forecast")).abs() > TOUCH_TOLERANCE))
    actual = pl.col("actual").sum()
    scoreable = actual != 0
    wmape_forecast = pl.when(scoreable).then(pl.col("forecast_error").abs().sum() / actual)
    wmape_consensus = pl.when(scoreable).then(pl.col("consensus_error").abs().sum() / actual)
    return touched.select(
        pl.len().alias("n_touched"),
        actual.alias("actual"),
        wmape_forecast.alias("wmape_forecast"),
        wmape_consensus.alias("wmape_consensus"),
        (wmape_forecast - wmape_consensus).alias("fva_consensus_vs_forecast"),
        (pl.col("consensus_error").abs() < pl.col("forecast_error").abs()).mean().alias("share_improved"),
    ).select(pl.col(name).cast(dtype) for name, dtype in OVERRIDE_VALUE_SCHEMA.items())
