"""Forecast Value Added scorecard (Gilliland; SPEC §5): does each step of the process beat the one before?

Steps, simplest first: naive → seasonal_naive → statistical → lightgbm → combination → production →
consensus (the last two when the backtest has those methods). `combination` is the mean of the three
methods that did best on the SKU's demand pattern (`plan.combination_backtest`): averaging forecasts
whose errors differ is the most reliable gain in the forecasting literature. `production` is each SKU's forecast by its segment's
winning step, the forecast the plan is built on; `consensus` adds events and the overrides planners
landed for each origin's cycle. The gain of consensus over production is the value the planners add. `statistical` is, per segment, the classical candidate (moving average, Croston
SBA, Theta) with the lowest mean WMAPE over lags in this same backtest: the choice a planner would make
from this scorecard, at the price of a slightly flattering error for that step. FVA is a difference of
WMAPE, positive when the step lowers the error.

Every step is scored on the same rows, the SKU × origin × month that all steps forecast, so a step
cannot look better by being scored on easier SKUs (the global model alone forecasts SKUs without history).

Every WMAPE and FVA carries a 90 % bootstrap interval that resamples whole SKUs (all origins and
months of a SKU stay together, since they are correlated), and the champion of a segment moves from
the simpler step, or from its parent segment's champion, only when the gain's interval excludes 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl

from sop_pipeline.forecast.metrics import score

STEPS = ("naive", "seasonal_naive", "statistical", "lightgbm", "combination", "production", "consensus")
# Built from the other steps' winners, so never a candidate for champion themselves.
DERIVED_STEPS = ("production", "consensus")
CHAMPION_STEPS = tuple(step for step in STEPS if step not in DERIVED_STEPS)
STATISTICAL_METHODS = ("moving_average", "croston_sba", "tsb", "adida", "theta")
NEW_SKU_MONTHS = 6
# A resample of very few SKUs cannot show noise (one SKU resampled is always itself), so a segment
# smaller than this takes its parent's champion.
MIN_SEGMENT_SKUS = 5
N_BOOT = 200
LEVEL = 0.9

_KEY = ["sku", "origin", "month"]
_SEGMENT = ["segment_type", "segment"]


def _segmented(backtest: pl.DataFrame, products: pl.DataFrame | None) -> pl.DataFrame:
    """The backtest repeated once per segment view: total, family, ABC-XYZ segment, demand pattern
    (ADI/CV²), and history (`new` SKUs with fewer than 6 months of history at the origin)."""
    views = [backtest.with_columns(pl.lit("total").alias("segment_type"), pl.lit("total").alias("segment"))]
    if products is not None:
        for segment_type, column in (("family", "family"), ("abc_xyz", "segment"), ("demand_pattern", "pattern")):
            if column in products.columns:
                attribute = products.select("sku", pl.col(column).alias("segment"))
                view = backtest.join(attribute, on="sku", how="inner")
                views.append(view.with_columns(pl.lit(segment_type).alias("segment_type")))
    if "months_of_history" in backtest.columns:
        new = pl.when(pl.col("months_of_history") < NEW_SKU_MONTHS).then(pl.lit("new")).otherwise(pl.lit("established"))
        views.append(backtest.with_columns(pl.lit("history").alias("segment_type"), new.alias("segment")))
    return pl.concat(views, how="diagonal_relaxed")


def _comparable_rows(
    backtest: pl.DataFrame, products: pl.DataFrame | None, statistical_methods: Sequence[str]
) -> pl.DataFrame:
    """The rows of the steps' methods that every method forecast, once per segment view."""
    methods = {"naive", "seasonal_naive", "lightgbm", "combination", *DERIVED_STEPS, *statistical_methods}
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

    `backtest` is the table of `backtest.backtest` (combination, production and consensus rows
    optional); `products` carries `sku, family, segment, pattern`. `fva_vs_naive` = WMAPE(naive) −
    WMAPE(step); `fva_vs_previous` compares with the step before it (null for naive).
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
    named = ["naive", "seasonal_naive", "lightgbm", "combination", *DERIVED_STEPS]
    steps = (
        scores.join(statistical, on=_SEGMENT, how="left")
        .with_columns(
            pl.when(pl.col("method") == pl.col("_statistical"))
            .then(pl.lit("statistical"))
            .when(pl.col("method").is_in(named))
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


def _boot_wmape(
    backtest: pl.DataFrame,
    fva: pl.DataFrame,
    products: pl.DataFrame | None,
    n_boot: int,
    seed: int,
    metric: str = "wmape",
) -> Iterator[tuple[str, str, list[int], dict[str, np.ndarray], int]]:
    """Per segment: its lags, per step the WMAPE (or MASE) of each lag on each of `n_boot` resamples
    of its SKUs (row 0 is the sample itself), shape (n_boot + 1, n_lags), and its number of SKUs.

    Every step of a segment is scored on the same resamples, so differences between steps are paired.
    """
    steps = fva.select(*_SEGMENT, "lag", "step", "method").unique()
    rows = (
        _comparable_rows(backtest, products, STATISTICAL_METHODS)
        .filter(~pl.col("is_stockout"))
        .join(steps, on=[*_SEGMENT, "lag", "method"], how="inner")
    )
    if metric == "mase":  # mean scaled error: Σ|A−F|/scale over the rows of series with a scale, / rows
        rows = rows.filter(pl.col("scale") > 0).with_columns(
            ((pl.col("actual") - pl.col("forecast")).abs() / pl.col("scale")).alias("_error"), pl.lit(1.0).alias("_weight"))
    else:  # WMAPE: Σ|A−F| / ΣA
        rows = rows.with_columns((pl.col("actual") - pl.col("forecast")).abs().alias("_error"), pl.col("actual").alias("_weight"))
    rows = rows.group_by(*_SEGMENT, "step", "sku", "lag").agg(
        pl.col("_error").sum().alias("error"), pl.col("_weight").sum().alias("actual")
    )
    for index, ((segment_type, segment), group) in enumerate(
        rows.sort(*_SEGMENT, "sku", "lag").group_by(_SEGMENT, maintain_order=True)
    ):
        skus = group["sku"].unique().sort()
        lags = group["lag"].unique().sort().to_list()
        sku_index = {sku: i for i, sku in enumerate(skus)}
        lag_index = {lag: j for j, lag in enumerate(lags)}
        rng = np.random.default_rng([seed, index])
        weights = np.vstack(
            [np.ones(len(skus)), rng.multinomial(len(skus), np.full(len(skus), 1 / len(skus)), size=n_boot)]
        )
        actual = np.zeros((len(skus), len(lags)))
        errors: dict[str, np.ndarray] = {}
        for (step,), part in group.group_by("step", maintain_order=True):
            i = np.array([sku_index[sku] for sku in part["sku"]])
            j = np.array([lag_index[lag] for lag in part["lag"]])
            matrix = np.zeros((len(skus), len(lags)))
            matrix[i, j] = part["error"].to_numpy()
            errors[step] = matrix
            actual[i, j] = part["actual"].to_numpy()  # the same on every step: the rows are comparable
        total = weights @ actual
        with np.errstate(divide="ignore", invalid="ignore"):
            yield segment_type, segment, lags, {
                step: np.where(total > 0, weights @ matrix / total, np.nan) for step, matrix in errors.items()
            }, len(skus)


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def fva_interval(
    backtest: pl.DataFrame,
    fva: pl.DataFrame,
    products: pl.DataFrame | None = None,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per segment, lag and step: bootstrap intervals of its WMAPE (`wmape_low`,
    `wmape_high`), of `fva_vs_naive` (`fva_low`, `fva_high`) and of `fva_vs_previous`
    (`fva_previous_low`, `fva_previous_high`); `is_significant` when the FVA-vs-naive interval
    excludes 0.

    Resamples whole SKUs with a fixed seed and recomputes every WMAPE on each resample, so an interval
    says whether a gain is larger than the luck of which SKUs happened to be in the backtest. `fva` is
    the table of `forecast_value_added` on the same backtest: it says which method each step is.
    """
    order = fva.select(*_SEGMENT, "lag", "step", "step_order").unique()
    out = []
    for segment_type, segment, lags, boot, _ in _boot_wmape(backtest, fva, products, n_boot, seed):
        present = order.filter(segment_type=segment_type, segment=segment).sort("lag", "step_order")
        for (lag,), steps in present.group_by("lag", maintain_order=True):
            j = lags.index(lag)
            previous = None
            for step in steps["step"]:
                if step not in boot:
                    continue
                wmape = boot[step][1:, j]
                gain = boot["naive"][1:, j] - wmape if "naive" in boot else np.full(n_boot, np.nan)
                gain_previous = boot[previous][1:, j] - wmape if previous else np.full(n_boot, np.nan)
                out.append((segment_type, segment, lag, step, *_interval(wmape, level), *_interval(gain, level),
                            *_interval(gain_previous, level)))
                previous = step
    columns = ("wmape_low", "wmape_high", "fva_low", "fva_high", "fva_previous_low", "fva_previous_high")
    intervals = pl.DataFrame(
        out,
        schema={"segment_type": pl.String, "segment": pl.String, "lag": pl.Int32, "step": pl.String,
                **{name: pl.Float64 for name in columns}},
        orient="row",
    )
    intervals = intervals.with_columns(pl.col(name).fill_nan(None) for name in columns)  # undefined, not a number
    return (
        fva.select(*_SEGMENT, "lag", "step", "step_order", "fva_vs_naive")
        .join(intervals, on=[*_SEGMENT, "lag", "step"], how="left")
        .with_columns(((pl.col("fva_low") > 0) | (pl.col("fva_high") < 0)).fill_null(False).alias("is_significant"))
        .sort(*_SEGMENT, "lag", "step_order")
    )


CHAMPION_SCHEMA = {
    "segment_type": pl.String, "segment": pl.String, "step": pl.String, "method": pl.String,
    "mean_mase": pl.Float64, "gain_low": pl.Float64, "gain_high": pl.Float64,
}


def choose_champion(
    backtest: pl.DataFrame,
    fva: pl.DataFrame,
    products: pl.DataFrame | None = None,
    parent_view: str = "total",
    child_views: Sequence[str] = ("demand_pattern",),
    max_lag: int | None = None,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per segment of `parent_view` and `child_views`: the chosen step, its method, its mean
    MASE over lags 1..max_lag, and the interval of its gain over the step it displaced
    (`gain_low`, `gain_high`; null when nothing was displaced).

    The criterion is the plain mean MASE over lags: every lag has the same say, since the plan uses
    every month of the horizon, and every SKU of the segment too. A pooled WMAPE would let the few
    largest SKUs pick the method for all of them: on the car parts data it chose the global model for
    lumpy series where a simple ADIDA forecast is better on most of them. The scorecard still reports
    WMAPE, the volume-weighted number the business plans with. A segment starts from the simplest step (naive) in the parent view and
    from the parent's champion in a child view; walking the steps from simple to complex, a step
    displaces the current choice only when its gain's bootstrap interval lies above 0. A gain smaller
    than its noise never changes the forecast a planner works with, and a small segment keeps the
    choice made on the whole catalogue unless its own evidence is clear (one with fewer than
    `MIN_SEGMENT_SKUS` SKUs always keeps it).
    """
    frame = fva if max_lag is None else fva.filter(pl.col("lag") <= max_lag)
    frame = frame.filter(pl.col("step").is_in(CHAMPION_STEPS))
    methods = {(r[0], r[1], r[2]): r[3] for r in frame.select(*_SEGMENT, "step", "method").unique().iter_rows()}
    boots = [b for b in _boot_wmape(backtest, frame, products, n_boot, seed, metric="mase")
             if b[0] in (parent_view, *child_views)]
    boots.sort(key=lambda b: b[0] != parent_view)  # the parent's choice first: the children start from it
    parent_choice: str | None = None
    out = []
    for segment_type, segment, _, boot, n_skus in boots:
        mean = {step: np.nanmean(values, axis=1) for step, values in boot.items()}
        current = parent_choice if segment_type != parent_view and parent_choice in mean else "naive"
        if current not in mean:
            current = next(step for step in CHAMPION_STEPS if step in mean)
        gain: tuple[float, float] = (float("nan"), float("nan"))
        too_small = segment_type != parent_view and n_skus < MIN_SEGMENT_SKUS
        for step in CHAMPION_STEPS:
            if too_small or step == current or step not in mean:
                continue
            low, high = _interval(mean[current][1:] - mean[step][1:], level)
            if low > 0:
                current, gain = step, (low, high)
        if segment_type == parent_view:
            parent_choice = current
        out.append((segment_type, segment, current, methods[(segment_type, segment, current)],
                    float(mean[current][0]), *gain))
    return pl.DataFrame(out, schema=CHAMPION_SCHEMA, orient="row").with_columns(
        pl.col("gain_low").fill_nan(None), pl.col("gain_high").fill_nan(None)
    ).sort(_SEGMENT)
