"""Classical forecast candidates per SKU from statsforecast (SPEC §5).

Seven methods, each a step a planner can name: `naive` (last month), `seasonal_naive` (same month last
year), `moving_average` (last 3 months), `theta` (Dynamic Optimized Theta, chosen over AutoETS because
it is ~25× faster on a catalogue with the same job), and three intermittent-aware methods for series
with many empty months: `croston_sba` (Croston with the Syntetos-Boylan correction), `tsb`
(Teunter-Syntetos-Babai, which lets the demand probability decay on a dying item) and `adida`
(temporal aggregation). Each is cheap on a smooth series too, so every SKU gets every method and the
backtest, not a rule, decides where each one wins (see `patterns` for the ADI/CV² view it is read by).
The `unique_id/ds/y` contract of statsforecast stays inside this module.
"""

from __future__ import annotations

import warnings
from datetime import date

import polars as pl
from statsforecast import StatsForecast
from statsforecast.models import ADIDA, TSB, CrostonSBA, DynamicOptimizedTheta, Naive, SeasonalNaive, WindowAverage

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.history import fill_unknown, impute_stockouts, monthly_history

SEASON_LENGTH = 12
MOVING_AVERAGE_MONTHS = 3
CLASSICAL_METHODS = ("naive", "seasonal_naive", "moving_average", "croston_sba", "tsb", "adida", "theta")
TSB_ALPHAS = (0.1, 0.1)
PARALLEL_FROM_SERIES = 2000
PARALLEL_JOBS = 2  # fixed, not the machine's core count: each series' fit is independent, so results are too  # smoothing of demand size and probability, the literature's usual setting

_ALIASES = {
    "Naive": "naive",
    "SeasonalNaive": "seasonal_naive",
    "WindowAverage": "moving_average",
    "CrostonSBA": "croston_sba",
    "TSB": "tsb",
    "ADIDA": "adida",
    "DynamicOptimizedTheta": "theta",
}

OUTPUT_SCHEMA = {"sku": pl.String, "month": pl.Date, "method": pl.String, "forecast": pl.Float64}


def _statsforecast(series: pl.DataFrame, horizon: int, season_length: int) -> pl.DataFrame:
    models = [
        Naive(),
        SeasonalNaive(season_length=SEASON_LENGTH),
        WindowAverage(window_size=MOVING_AVERAGE_MONTHS),
        CrostonSBA(),
        TSB(alpha_d=TSB_ALPHAS[0], alpha_p=TSB_ALPHAS[1]),
        ADIDA(),
        DynamicOptimizedTheta(season_length=season_length),
    ]
    frame = series.select(pl.col("sku").alias("unique_id"), pl.col("month").alias("ds"), pl.col("units").alias("y"))
    # A model that cannot fit one odd series (flat, all zeros) falls back to naive for it rather than
    # failing the catalogue.
    # Two processes only pay off on a large catalogue: starting them costs about a second.
    n_jobs = PARALLEL_JOBS if frame["unique_id"].n_unique() >= PARALLEL_FROM_SERIES else 1
    engine = StatsForecast(models=models, freq="1mo", n_jobs=n_jobs, fallback_model=Naive())
    with warnings.catch_warnings():
        # Seasonal naive on a series shorter than a year warns and returns NaN; handled below.
        warnings.simplefilter("ignore")
        out = engine.forecast(df=frame, h=horizon)
    return out.rename({"unique_id": "sku", "ds": "month", **_ALIASES})


def forecast_candidates(history: pl.DataFrame, origin: date, horizon: int) -> pl.DataFrame:
    """One row per SKU, month of the horizon and method: `sku, month, method, forecast` (≥ 0).

    `history` holds `sku, month, units` (optionally `channel`, `is_stockout`); only months before
    `origin` are used, whatever the caller passes. Theta uses the yearly season only on series with at
    least two full years; shorter series get the non-seasonal Theta. Where a method has too little
    history (seasonal naive before a year, moving average before 3 months) it falls back to the mean
    of what there is, so every SKU with history gets every method.
    """
    series = fill_unknown(impute_stockouts(monthly_history(history, origin)))
    if series.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    lengths = series.group_by("sku").agg(pl.len().alias("n"))
    long_skus = lengths.filter(pl.col("n") >= 2 * SEASON_LENGTH)["sku"]
    parts = []
    for seasonal, season_length in ((True, SEASON_LENGTH), (False, 1)):
        part = series.filter(pl.col("sku").is_in(long_skus.implode()) == seasonal)
        if not part.is_empty():
            parts.append(_statsforecast(part, horizon, season_length))
    wide = pl.concat(parts, how="vertical_relaxed")
    means = series.group_by("sku").agg(pl.col("units").mean().alias("_mean"))
    wide = wide.join(means, on="sku", how="left").with_columns(
        pl.col(method).fill_nan(None).fill_null(pl.col("_mean")) for method in CLASSICAL_METHODS
    )
    expected = pl.date_range(origin, add_months(origin, horizon - 1), "1mo", eager=True)
    assert wide["month"].unique().sort().equals(expected, check_names=False), "forecast months misaligned"
    return (
        wide.unpivot(index=["sku", "month"], on=list(CLASSICAL_METHODS), variable_name="method", value_name="forecast")
        .with_columns(pl.col("forecast").clip(lower_bound=0.0).cast(pl.Float64))
        .select(list(OUTPUT_SCHEMA))
        .sort("sku", "method", "month")
    )
