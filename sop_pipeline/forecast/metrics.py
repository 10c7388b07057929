"""Forecast accuracy metrics of the scorecard (SPEC §5): WMAPE, bias and MASE, by group and lag.

Written in polars rather than with utilsforecast's losses: those score one series at a time, while the
S&OP scorecard pools every SKU of a segment into one ratio (Σ|A−F|/ΣA), drops censored stockout months
first, and needs the MASE scale of the series each row belongs to, not of the pooled group.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from sop_pipeline.cycle import SEASON_LENGTH


def mase_scale(series: pl.DataFrame, season_length: int = SEASON_LENGTH) -> pl.DataFrame:
    """One row per SKU: `sku, scale`, the in-sample MAE of the seasonal naive forecast of its series.

    `series` holds `sku, month, units` (and optionally `is_stockout`) with consecutive months. Seasonal
    naive with m = 12 needs 13 months; shorter series use m = 1 (naive). Pairs touching a stockout month
    are skipped for the same reason stockouts are not scored: their demand is censored.
    """
    frame = series.sort("sku", "month")
    if "is_stockout" not in frame.columns:
        frame = frame.with_columns(pl.lit(False).alias("is_stockout"))
    length = pl.len().over("sku")
    m = pl.when(length > season_length).then(season_length).otherwise(1)
    frame = frame.with_columns(m.alias("_m"))
    errors = []
    for lag in sorted(set(frame["_m"].to_list())):
        part = frame.filter(pl.col("_m") == lag).with_columns(
            (pl.col("units") - pl.col("units").shift(lag).over("sku")).abs().alias("_error"),
            (pl.col("is_stockout") | pl.col("is_stockout").shift(lag).over("sku")).alias("_censored"),
        )
        errors.append(part)
    if not errors:
        return pl.DataFrame(schema={"sku": pl.String, "scale": pl.Float64})
    return (
        pl.concat(errors)
        .group_by("sku")
        .agg(pl.col("_error").filter(~pl.col("_censored").fill_null(True)).mean().alias("scale"))
        .with_columns(pl.col("scale").fill_null(0.0))
        .sort("sku")
    )


SUMS = ("abs_error", "error", "actual_units", "n_scored", "scaled_error", "n_scaled")


def error_sums(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """One row per group of `by`: the sums every score is a ratio of, so that scores of larger groups
    (segments, the catalogue) are sums of these rather than a pass over the rows again.

    `abs_error` Σ|A−F|, `error` Σ(F−A), `actual_units` ΣA and `n_scored` rows; `scaled_error` Σ|A−F|/scale
    and `n_scaled` rows over the rows whose series has a scale > 0 (MASE leaves zero-scale series out).
    `frame` holds `actual, forecast` and optionally `is_stockout` (those months are dropped: their
    actuals understate demand, and scoring against them rewards forecasts that repeat the shortage) and
    `scale`. Values are summed in sorted order, so the sums do not depend on the order of the rows.
    """
    data = frame
    if "is_stockout" in data.columns:
        data = data.filter(~pl.col("is_stockout"))
    if "scale" not in data.columns:
        data = data.with_columns(pl.lit(None, dtype=pl.Float64).alias("scale"))
    absolute = (pl.col("actual") - pl.col("forecast")).abs()
    scaled = pl.when(pl.col("scale") > 0).then(absolute / pl.col("scale"))
    return data.group_by(list(by)).agg(
        absolute.sort().sum().alias("abs_error"),
        (pl.col("forecast") - pl.col("actual")).sort().sum().alias("error"),
        pl.col("actual").sort().sum().alias("actual_units"),
        pl.len().alias("n_scored"),
        scaled.sort().sum().alias("scaled_error"),
        scaled.count().alias("n_scaled"),
    )


def ratios(sums: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """One row per group of `by`: `wmape`, `bias`, `mase`, `n_scored`, `actual_units` from the rows of
    `error_sums` it holds. WMAPE and bias are undefined (null) without demand, MASE without a scale."""
    total = sums.group_by(list(by)).agg(pl.col(name).sort().sum() for name in SUMS)
    undefined = pl.col("actual_units") == 0
    return total.select(
        *by,
        pl.when(undefined).then(None).otherwise(pl.col("abs_error") / pl.col("actual_units")).alias("wmape"),
        pl.when(undefined).then(None).otherwise(pl.col("error") / pl.col("actual_units")).alias("bias"),
        pl.when(pl.col("n_scaled") > 0).then(pl.col("scaled_error") / pl.col("n_scaled")).alias("mase"),
        pl.col("n_scored").cast(pl.UInt32),
        "actual_units",
    ).sort(list(by))


def score(frame: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """One row per group of `by`, method and lag: `wmape`, `bias`, `mase`, and the rows and units scored.

    `frame` is a backtest table: `lag, actual, forecast, method` and optionally `is_stockout` and `scale`
    (MASE is null without it). Stockout months are dropped before scoring: their actuals understate
    demand, and scoring against them would reward forecasts that repeat the shortage.
    """
    keys = [*by, "method", "lag"]
    return ratios(error_sums(frame, keys), keys)
