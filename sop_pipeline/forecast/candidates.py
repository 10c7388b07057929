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

import numpy as np
import polars as pl
from statsforecast import StatsForecast
from statsforecast.models import ADIDA, TSB, CrostonSBA, DynamicOptimizedTheta, Naive, SeasonalNaive, WindowAverage

from sop_pipeline.cycle import SEASON_LENGTH, add_months
from sop_pipeline.forecast.history import fill_unknown, impute_stockouts, monthly_history

MOVING_AVERAGE_MONTHS = 3
CLASSICAL_METHODS = ("naive", "seasonal_naive", "moving_average", "croston_sba", "tsb", "adida", "theta")
TSB_ALPHAS = (0.1, 0.1)  # smoothing of demand size and probability, the literature's usual setting
PARALLEL_FROM_SERIES = 2000
PARALLEL_JOBS = 2  # fixed, not the machine's core count: each series' fit is independent, so results are too

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
# Fitted Theta models by SKU and season (12, or 1 for a series shorter than two years): what a backtest
# origin hands to the next ones when they carry the fit forward instead of refitting.
ThetaFits = dict[tuple[str, int], object]


def _frame(series: pl.DataFrame) -> pl.DataFrame:
    return series.select(pl.col("sku").alias("unique_id"), pl.col("month").alias("ds"), pl.col("units").alias("y"))


def _engine(models: list, n_series: int) -> StatsForecast:
    # A model that cannot fit one odd series (flat, all zeros) falls back to naive for it rather than
    # failing the catalogue. Two processes only pay off on a large catalogue: starting them costs about a second.
    n_jobs = PARALLEL_JOBS if n_series >= PARALLEL_FROM_SERIES else 1
    return StatsForecast(models=models, freq="1mo", n_jobs=n_jobs, fallback_model=Naive())


def _simple(series: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """The six cheap methods, fitted at every origin (a few milliseconds per thousand series)."""
    models = [
        Naive(),
        SeasonalNaive(season_length=SEASON_LENGTH),
        WindowAverage(window_size=MOVING_AVERAGE_MONTHS),
        CrostonSBA(),
        TSB(alpha_d=TSB_ALPHAS[0], alpha_p=TSB_ALPHAS[1]),
        ADIDA(),
    ]
    with warnings.catch_warnings():
        # Seasonal naive on a series shorter than a year warns and returns NaN; handled by the caller.
        warnings.simplefilter("ignore")
        out = _engine(models, series["sku"].n_unique()).forecast(df=_frame(series), h=horizon)
    return out.rename({"unique_id": "sku", "ds": "month", **_ALIASES}, strict=False)


def _theta(
    series: pl.DataFrame, origin: date, horizon: int, season_length: int, carried: ThetaFits | None
) -> tuple[pl.DataFrame, ThetaFits]:
    """Theta forecasts of `series`, and the fitted model of each SKU.

    A SKU with a model in `carried` (fitted at an earlier origin, same season) is not refitted: its
    parameters are kept and its states re-run over the months up to this origin (statsforecast's
    `forward`), about a tenth of a fit. Every other SKU is fitted here."""
    months = [add_months(origin, h) for h in range(horizon)]
    fits: ThetaFits = {}
    rows = []
    fresh = series
    if carried:
        ordered = series.sort("sku", "month")
        units = ordered["units"].to_numpy().astype(float)
        counts = ordered.group_by("sku", maintain_order=True).len()
        ends = np.cumsum(counts["len"].to_numpy())
        reused, values = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for sku, start, end in zip(counts["sku"], ends - counts["len"].to_numpy(), ends, strict=True):
                model = carried.get((sku, season_length))
                if model is None:
                    continue
                try:
                    values.append(np.asarray(model.forward(y=units[start:end], h=horizon)["mean"], dtype=float))
                except Exception:  # noqa: BLE001 - an odd series is refitted below, as it would be anyway
                    continue
                fits[(sku, season_length)] = model
                reused.append(sku)
        if reused:
            rows.append(pl.DataFrame({"sku": np.repeat(reused, horizon), "month": months * len(reused),
                                      "theta": np.concatenate(values)}))
        fresh = series.filter(~pl.col("sku").is_in(reused))
    if not fresh.is_empty():
        engine = _engine([DynamicOptimizedTheta(season_length=season_length)], fresh["sku"].n_unique())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            engine.fit(df=_frame(fresh))
            predicted = engine.predict(h=horizon)
        fits.update({(sku, season_length): model for sku, model in zip(engine.uids, engine.fitted_[:, 0], strict=True)})
        rows.append(predicted.select(pl.col("unique_id").alias("sku"), pl.col("ds").alias("month"),
                                     pl.col("DynamicOptimizedTheta").cast(pl.Float64).alias("theta")))
    return pl.concat(rows, how="vertical_relaxed"), fits


def forecast_candidates(history: pl.DataFrame, origin: date, horizon: int) -> pl.DataFrame:
    """One row per SKU, month of the horizon and method: `sku, month, method, forecast` (≥ 0).

    `history` holds `sku, month, units` (optionally `channel`, `is_stockout`); only months before
    `origin` are used, whatever the caller passes. Theta uses the yearly season only on series with at
    least two full years; shorter series get the non-seasonal Theta. Where a method has too little
    history (seasonal naive before a year, moving average before 3 months) it falls back to the mean
    of what there is, so every SKU with history gets every method.
    """
    return candidate_forecasts(history, origin, horizon)[0]


def candidate_forecasts(
    history: pl.DataFrame, origin: date, horizon: int, carried: ThetaFits | None = None
) -> tuple[pl.DataFrame, ThetaFits]:
    """`forecast_candidates`, and the fitted Theta models, which a later backtest origin may carry
    forward (`carried`) instead of refitting them."""
    series = fill_unknown(impute_stockouts(monthly_history(history, origin)))
    if series.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA), {}
    lengths = series.group_by("sku").agg(pl.len().alias("n"))
    long_skus = lengths.filter(pl.col("n") >= 2 * SEASON_LENGTH)["sku"]
    thetas, fits = [], {}
    for seasonal, season_length in ((True, SEASON_LENGTH), (False, 1)):
        part = series.filter(pl.col("sku").is_in(long_skus.implode()) == seasonal)
        if not part.is_empty():
            forecasts, fitted = _theta(part, origin, horizon, season_length, carried)
            thetas.append(forecasts)
            fits.update(fitted)
    wide = _simple(series, horizon).join(pl.concat(thetas), on=["sku", "month"], how="left")
    means = series.group_by("sku").agg(pl.col("units").mean().alias("_mean"))
    wide = wide.join(means, on="sku", how="left").with_columns(
        pl.col(method).fill_nan(None).fill_null(pl.col("_mean")) for method in CLASSICAL_METHODS
    )
    expected = pl.date_range(origin, add_months(origin, horizon - 1), "1mo", eager=True)
    assert wide["month"].unique().sort().equals(expected, check_names=False), "forecast months misaligned"
    frame = (
        wide.unpivot(index=["sku", "month"], on=list(CLASSICAL_METHODS), variable_name="method", value_name="forecast")
        .with_columns(pl.col("forecast").clip(lower_bound=0.0).cast(pl.Float64))
        .select(list(OUTPUT_SCHEMA))
        .sort("sku", "method", "month")
    )
    return frame, fits
