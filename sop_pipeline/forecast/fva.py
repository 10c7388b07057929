"""Forecast Value Added scorecard (Gilliland; SPEC §5): does each step of the process beat the one before?

Steps, simplest first: naive → seasonal_naive → statistical → lightgbm → production → consensus (the
last two when the backtest has those methods). `production` is each SKU's forecast by its segment's
winning step, the forecast the plan is built on; `consensus` adds events and the overrides planners
landed for each origin's cycle. The gain of consensus over production is the value the planners add. `statistical` is, per segment, the classical candidate (moving average, Croston
SBA, Theta) with the lowest mean WMAPE over lags in this same backtest: the choice a planner would make
from this scorecard, at the price of a slightly flattering error for that step. FVA is a difference of
WMAPE, positive when the step lowers the error.

Every step is scored on the same rows, the SKU × origin × month that all steps forecast, so a step
cannot look better by being scored on easier SKUs (the global model alone forecasts SKUs without history).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from sop_pipeline.forecast.metrics import score

STEPS = ("naive", "seasonal_naive", "statistical", "lightgbm", "production", "consensus")
# Built from the other steps' winners, so never a candidate for champion themselves.
DERIVED_STEPS = ("production", "consensus")
STATISTICAL_METHODS = ("moving_average", "croston_sba", "theta")
TIE_TOLERANCE = 0.005

_KEY = ["sku", "origin", "month"]
_SEGMENT = ["segment_type", "segment"]


def _segmented(backtest: pl.DataFrame, products: pl.DataFrame | None) -> pl.DataFrame:
    """The backtest repeated once per segment view: total, family, ABC-XYZ segment."""
    views = [backtest.with_columns(pl.lit("total").alias("segment_type"), pl.lit("total").alias("segment"))]
    if products is not None:
        for segment_type, column in (("family", "family"), ("abc_xyz", "segment")):
            if column in products.columns:
                attribute = products.select("sku", pl.col(column).alias("segment"))
                view = backtest.join(attribute, on="sku", how="inner")
                views.append(view.with_columns(pl.lit(segment_type).alias("segment_type")))
    return pl.concat(views, how="diagonal_relaxed")


def _comparable_rows(
    backtest: pl.DataFrame, products: pl.DataFrame | None, statistical_methods: Sequence[str]
) -> pl.DataFrame:
    """The rows of the steps' methods that every method forecast, once per segment view."""
    methods = {"naive", "seasonal_naive", "lightgbm", *DERIVED_STEPS, *statistical_methods}
    rows = backtest.filter(pl.col("method").is_in(list(methods)))
    present = rows["method"].unique().to_list()
    common = rows.group_by(_KEY).agg(pl.col("method").n_unique().alias("_n")).filter(pl.col("_n") == len(present))
    return _segmented(rows.join(common.select(_KEY), on=_KEY, how="semi"), products)


def forecast_value_added(
    backtest: pl.DataFrame,
    products: pl.DataFrame | None = None,
    statistical_methods: Sequence[str] = STATISTICAL_METHODS,
) -> pl.DataFrame:
    """One row per segment, lag and process step: `segment_type, segment, lag, step, step_order,
    method, wmape, bias, n_scored, fva_vs_naive, fva_vs_previous`.

    `backtest` is the table of `backtest.backtest` (consensus rows optional); `products` carries `sku,
    family, segment`. `fva_vs_naive` = WMAPE(naive) − WMAPE(step); `fva_vs_previous` compares with the
    step before it (null for naive).
    """
    scores = score(_comparable_rows(backtest, products, statistical_methods), by=_SEGMENT)
    rank = {method: i for i, method in enumerate(statistical_methods)}

    statistical = (
        scores.filter(pl.col("method").is_in(list(statistical_methods)))
        .group_by(*_SEGMENT, "method")
        .agg(pl.col("wmape").mean().alias("_mean"))
        # Ties go to the first method in `statistical_methods`, the simpler one.
        .with_columns(pl.col("method").replace_strict(rank).alias("_rank"))
        .sort(*_SEGMENT, "_mean", "_rank", nulls_last=True)
        .group_by(_SEGMENT, maintain_order=True)
        .first()
        .select(*_SEGMENT, pl.col("method").alias("_statistical"))
    )
    steps = (
        scores.join(statistical, on=_SEGMENT, how="left")
        .with_columns(
            pl.when(pl.col("method") == pl.col("_statistical"))
            .then(pl.lit("statistical"))
            .when(pl.col("method").is_in(["naive", "seasonal_naive", "lightgbm", *DERIVED_STEPS]))
            .then(pl.col("method"))
            .alias("step")
        )
        .filter(pl.col("step").is_not_null())
        .with_columns(pl.col("step").replace_strict({step: i for i, step in enumerate(STEPS)}).alias("step_order"))
        .sort(*_SEGMENT, "lag", "step_order")
    )
    naive = pl.col("wmape").filter(pl.col("step") == "naive").first().over(*_SEGMENT, "lag")
    return steps.with_columns(
        (naive - pl.col("wmape")).alias("fva_vs_naive"),
        (pl.col("wmape").shift(1).over(*_SEGMENT, "lag", order_by="step_order") - pl.col("wmape")).alias(
            "fva_vs_previous"
        ),
    ).select(
        *_SEGMENT,
        "lag",
        "step",
        "step_order",
        "method",
        "wmape",
        "bias",
        "n_scored",
        "fva_vs_naive",
        "fva_vs_previous",
    )


def choose_champion(fva: pl.DataFrame, tolerance: float = TIE_TOLERANCE, max_lag: int | None = None) -> pl.DataFrame:
    """One row per segment: the step whose plain mean WMAPE over lags 1..max_lag is lowest:
    `segment_type, segment, step, method, mean_wmape`.

    A plain mean gives every lag the same say, since the plan uses every month of the horizon (orders
    are driven by the lead-time lags, the budget by all of them). A step within `tolerance` of the best
    loses to a simpler one: a gain that small is noise, and the simpler step is cheaper to explain and run.
    """
    frame = fva if max_lag is None else fva.filter(pl.col("lag") <= max_lag)
    frame = frame.filter(~pl.col("step").is_in(DERIVED_STEPS))
    means = frame.group_by(*_SEGMENT, "step", "step_order", "method").agg(pl.col("wmape").mean().alias("mean_wmape"))
    best = pl.col("mean_wmape").min().over(_SEGMENT)
    return (
        means.filter(pl.col("mean_wmape") <= best + tolerance)
        .sort(*_SEGMENT, "step_order")
        .group_by(_SEGMENT, maintain_order=True)
        .first()
        .select(*_SEGMENT, "step", "method", "mean_wmape")
        .sort(_SEGMENT)
    )


def fva_interval(
    backtest: pl.DataFrame,
    fva: pl.DataFrame,
    products: pl.DataFrame | None = None,
    n_boot: int = 200,
    level: float = 0.9,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per segment, lag and step: `fva_vs_naive` with its bootstrap interval
    (`fva_low`, `fva_high`) and `is_significant` when the interval excludes 0.

    Resamples SKU × origin pairs (a whole forecast run of one SKU stays together, since its months are
    correlated) with a fixed seed, and recomputes both WMAPEs on each resample, so the interval says
    whether a gain is larger than the luck of which SKUs and months happened to be in the backtest.
    `fva` is the table of `forecast_value_added` on the same backtest: it says which method each step is.
    """
    steps = fva.select(*_SEGMENT, "lag", "step", "method").unique()
    rows = (
        _comparable_rows(backtest, products, STATISTICAL_METHODS)
        .filter(~pl.col("is_stockout"))
        .join(steps, on=[*_SEGMENT, "lag", "method"], how="inner")
        .group_by(*_SEGMENT, "lag", "step", "sku", "origin")
        .agg((pl.col("actual") - pl.col("forecast")).abs().sum().alias("error"), pl.col("actual").sum())
    )
    rng = np.random.default_rng(seed)
    tail = (1 - level) / 2
    out = []
    for (segment_type, segment, lag), group in rows.sort(*_SEGMENT, "lag", "sku", "origin").group_by(
        [*_SEGMENT, "lag"], maintain_order=True
    ):
        wide = group.pivot(on="step", index=["sku", "origin"], values="error").sort("sku", "origin")
        actual = group.filter(step="naive").sort("sku", "origin")["actual"].to_numpy()
        if len(actual) == 0 or "naive" not in wide.columns:
            continue
        weights = rng.multinomial(len(actual), np.full(len(actual), 1 / len(actual)), size=n_boot)
        total = weights @ actual
        with np.errstate(divide="ignore", invalid="ignore"):
            naive = weights @ wide["naive"].to_numpy() / total
            for step in [c for c in wide.columns if c not in ("sku", "origin")]:
                gain = naive - weights @ wide[step].to_numpy() / total
                gain = gain[np.isfinite(gain)]
                low, high = (np.quantile(gain, [tail, 1 - tail]) if len(gain) else (np.nan, np.nan))
                out.append((segment_type, segment, lag, step, float(low), float(high)))
    intervals = pl.DataFrame(
        out,
        schema={
            "segment_type": pl.String,
            "segment": pl.String,
            "lag": pl.Int32,
            "step": pl.String,
            "fva_low": pl.Float64,
            "fva_high": pl.Float64,
        },
        orient="row",
    )
    return (
        fva.select(*_SEGMENT, "lag", "step", "step_order", "fva_vs_naive")
        .join(intervals, on=[*_SEGMENT, "lag", "step"], how="left")
        .with_columns(((pl.col("fva_low") > 0) | (pl.col("fva_high") < 0)).fill_null(False).alias("is_significant"))
        .sort(*_SEGMENT, "lag", "step_order")
    )
