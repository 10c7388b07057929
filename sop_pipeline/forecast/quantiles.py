"""Forecast quantiles per SKU and month, calibrated on backtest residuals (SPEC §5).

Errors are measured relative to the forecast, e = (A − F) / max(F, 1): relative, so that one table
serves SKUs selling 5 and 5,000 units a month, and floored at one unit so that a zero forecast still
gets a band (an intermittent SKU forecast at 0 can sell a few units). The empirical quantiles of e by
lag (and optionally segment) widen the point forecast: p = F + q · max(F, 1).

The median is the point forecast itself, not a bias-corrected one: the plan everyone agreed to stays
the central scenario, and its bias is reported by the scorecard rather than silently corrected here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from sop_pipeline.forecast.history import lag_expr

DEFAULT_LEVELS = (0.1, 0.5, 0.9)
MIN_RESIDUALS = 30


def _name(level: float) -> str:
    return f"p{round(level * 100)}"


def _scaled_error() -> pl.Expr:
    return (pl.col("actual") - pl.col("forecast")) / pl.max_horizontal(pl.col("forecast"), pl.lit(1.0))


def residual_quantiles(
    backtest: pl.DataFrame,
    by: Sequence[str] = ("lag",),
    levels: Sequence[float] = DEFAULT_LEVELS,
    min_residuals: int = MIN_RESIDUALS,
) -> pl.DataFrame:
    """One row per group of `by` (which must include `lag`): `*by, n_residuals, q10, q50, q90, ...`.

    `backtest` holds the rows of the method that will be used (filter it first): `lag, actual, forecast`,
    optionally `is_stockout` (those months are left out: their errors measure the shortage, not the
    forecast). A group with fewer than `min_residuals` errors takes the quantiles of its whole lag.
    """
    by = list(by)
    if "lag" not in by:
        raise ValueError("residual quantiles are calibrated by lag: `by` must include 'lag'")
    data = backtest
    if "is_stockout" in data.columns:
        data = data.filter(~pl.col("is_stockout"))
    data = data.with_columns(_scaled_error().alias("_error"))
    names = [f"q{round(level * 100)}" for level in levels]

    def aggregate(keys: list[str]) -> pl.DataFrame:
        return data.group_by(keys).agg(
            pl.len().alias("n_residuals"),
            *[pl.col("_error").quantile(level, "linear").alias(n) for level, n in zip(levels, names, strict=True)],
        )

    result = aggregate(by)
    if by != ["lag"]:
        pooled = aggregate(["lag"]).rename({n: f"_{n}" for n in names}).drop("n_residuals")
        thin = pl.col("n_residuals") < min_residuals
        result = result.join(pooled, on="lag", how="left").with_columns(
            pl.when(thin).then(pl.col(f"_{n}")).otherwise(pl.col(n)).alias(n) for n in names
        ).drop([f"_{n}" for n in names])
    return result.select(*by, "n_residuals", *names).sort(by)


def forecast_quantiles(
    forecast: pl.DataFrame,
    origin: date,
    residuals: pl.DataFrame,
    levels: Sequence[float] = DEFAULT_LEVELS,
) -> pl.DataFrame:
    """One row per forecast row: its columns plus `lag` and one column per level (`p10, p50, p90`).

    `forecast` holds `sku, month, forecast` and any segment column `residuals` is keyed by. Lags beyond
    the calibrated ones use the longest calibrated lag; without any residual the band collapses to the
    forecast. Always 0 ≤ p10 ≤ p50 ≤ p90: negative quantities are impossible demand, and crossing
    quantiles would make the cautious scenario more optimistic than the central one.
    """
    levels = sorted(levels)
    names = [f"q{round(level * 100)}" for level in levels]
    keys = [c for c in residuals.columns if c not in ("n_residuals", *names)]
    frame = forecast.with_columns(lag_expr(origin).alias("lag"))
    max_lag = residuals["lag"].max() if not residuals.is_empty() else None
    capped = pl.col("lag") if max_lag is None else pl.min_horizontal(pl.col("lag"), pl.lit(max_lag))
    frame = frame.with_columns(capped.cast(pl.Int32).alias("_lag"))
    table = residuals.select(*keys, *names).rename({"lag": "_lag"}).with_columns(pl.col("_lag").cast(pl.Int32))
    frame = frame.join(table, on=["_lag" if k == "lag" else k for k in keys], how="left")
    point = pl.col("forecast").clip(lower_bound=0.0)
    unit = pl.max_horizontal(point, pl.lit(1.0))
    columns = []
    for level, q in zip(levels, names, strict=True):
        error = pl.col(q).fill_null(0.0).fill_nan(0.0)
        if level < 0.5:
            value = point + pl.min_horizontal(error, pl.lit(0.0)) * unit
        elif level > 0.5:
            value = point + pl.max_horizontal(error, pl.lit(0.0)) * unit
        else:
            value = point
        columns.append(value.clip(lower_bound=0.0).alias(_name(level)))
    frame = frame.with_columns(columns)
    # A lower level from a different residual pool than its neighbour could still cross it.
    previous = None
    for level in levels:
        if previous is not None:
            frame = frame.with_columns(pl.max_horizontal(_name(level), previous).alias(_name(level)))
        previous = _name(level)
    return frame.drop("_lag", *names).sort("sku", "month")
