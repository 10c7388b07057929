"""Rolling-origin backtest of every forecast method (SPEC §5): the evidence behind the FVA scorecard.

For each origin, the models see only months strictly before it: the history is cut here, before any
model is called, and every model cuts it again itself, so no month on or after an origin can shape
that origin's forecasts. Actuals are the raw (censored) units; scoring drops stockout months later.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.candidates import ThetaFits, candidate_forecasts
from sop_pipeline.forecast.folds import FoldCache, fold_key
from sop_pipeline.forecast.global_model import fit_and_forecast
from sop_pipeline.forecast.history import lag_expr, monthly_history
from sop_pipeline.forecast.metrics import mase_scale

DEFAULT_ORIGINS = 12
MIN_TRAINING_MONTHS = 12
# Every origin refits every model while the backtest stays within this many series fits (about 3,300
# SKUs × 12 origins, which covers the public benchmark sets). A larger catalogue refits the two costly
# models, Theta and LightGBM, every k-th origin and carries their fits forward in between.
MAX_SERIES_FITS = 40_000

BACKTEST_SCHEMA = {
    "sku": pl.String,
    "origin": pl.Date,
    "month": pl.Date,
    "lag": pl.Int32,
    "actual": pl.Float64,
    "is_stockout": pl.Boolean,
    "method": pl.String,
    "forecast": pl.Float64,
    "scale": pl.Float64,
    "months_of_history": pl.Int32,
}


def backtest_origins(
    history: pl.DataFrame, n_origins: int = DEFAULT_ORIGINS, min_training_months: int = MIN_TRAINING_MONTHS
) -> list[date]:
    """The last `n_origins` months of history that leave at least `min_training_months` before them.

    Each origin is a cycle a planner actually ran: origin k forecasts from month k on, so the latest
    origins are scored on lag 1 only and lag h is scored on the origins at least h months old.
    """
    if history.is_empty():
        return []
    first, last = history["month"].min(), history["month"].max()
    earliest = add_months(first, min_training_months)
    candidates = [add_months(last, -k) for k in range(n_origins - 1, -1, -1)]
    return [origin for origin in candidates if origin >= earliest]


def refit_interval(n_skus: int, n_origins: int) -> int:
    """Every how many origins the backtest refits Theta and LightGBM: 1 (every origin) up to
    MAX_SERIES_FITS series fits, then the least interval that keeps within it.

    Between refits a model keeps the parameters fitted at the last refit origin, which saw only months
    before that origin, and forecasts from the months before its own origin: a planner who retrains
    quarterly does the same, so no month after an origin reaches its forecast. The backtest error of
    these two models is then, if anything, slightly pessimistic: the production forecast always refits."""
    return max(1, math.ceil(n_skus * n_origins / MAX_SERIES_FITS))


def backtest(
    history: pl.DataFrame,
    horizon: int = 12,
    n_origins: int = DEFAULT_ORIGINS,
    products: pl.DataFrame | None = None,
    events: pl.DataFrame | Callable[[date], pl.DataFrame] | None = None,
    include_lightgbm: bool = True,
    min_training_months: int = MIN_TRAINING_MONTHS,
    refit_every: int | None = None,
    cache: FoldCache | None = None,
) -> pl.DataFrame:
    """One row per SKU, origin, forecast month with a known actual, and method:
    `sku, origin, month, lag, actual, is_stockout, method, forecast, scale, months_of_history`.

    `history` is the fact base (`sku, month, units`, optionally `channel`, `is_stockout`). `lag` is 1
    for the origin's own month. `scale` is the SKU's in-sample seasonal-naive MAE before the origin,
    the MASE denominator; `months_of_history` the months the SKU had sold before the origin (a SKU
    with fewer than 6 is forecast as new). `events` is the event uplift (`sku, month, uplift`), the same at every
    origin, or a function giving it as known at an origin (`events.origin_event_uplift`: the channel mix
    that weighs an event is then the one known at the origin, and a fold is the same fold at every cycle).
    `refit_every` defaults to `refit_interval` of the catalogue. With a `cache`, a fold an earlier cycle
    computed from the same inputs is read rather than refitted (sop_pipeline.forecast.folds), and the
    folds this backtest did not use are removed from it.
    """
    origins = backtest_origins(history, n_origins, min_training_months)
    if not origins:
        return pl.DataFrame(schema=BACKTEST_SCHEMA)
    last = add_months(history["month"].max(), 1)
    actuals = monthly_history(history, last).rename({"units": "actual"}).filter(pl.col("actual").is_not_null())
    parts = []
    refit = refit_every or refit_interval(history["sku"].n_unique(), len(origins))
    thetas, boosters = None, None
    for index, origin in enumerate(origins):
        known = history.filter(pl.col("month") < origin)
        uplift = events(origin) if callable(events) else events
        if refit == 1:
            forecasts = origin_forecasts(known, origin, horizon, products, uplift, include_lightgbm, cache)
        else:  # a fold that carries an earlier origin's fits depends on that origin too: not cached
            inputs = _model_inputs(origin, horizon, products, uplift)
            forecasts, thetas, boosters = _carried_fold(known, origin, horizon, *inputs, include_lightgbm,
                                                        (thetas, boosters) if index % refit else (None, None))
        series = monthly_history(known, origin)
        scale = mase_scale(series).join(
            series.group_by("sku").agg(pl.col("units").is_not_null().sum().alias("months_of_history")), on="sku"
        )
        parts.append(
            forecasts
            .join(actuals, on=["sku", "month"], how="inner")
            .join(scale, on="sku", how="left")
            .with_columns(pl.col("months_of_history").fill_null(0))
            .with_columns(
                pl.lit(origin).alias("origin"),
                lag_expr(origin).alias("lag"),
            )
        )
    if cache is not None:
        cache.keep_only_used()
    return (
        pl.concat(parts)
        .select([pl.col(name).cast(dtype) for name, dtype in BACKTEST_SCHEMA.items()])
        .sort("origin", "sku", "method", "month")
    )


def _model_inputs(
    origin: date, horizon: int, products: pl.DataFrame | None, events: pl.DataFrame | None
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """What the global model reads of the products and events for one origin's fold, and nothing more,
    so that a fold's cache key changes exactly when its inputs do."""
    if products is not None:
        products = products.select([c for c in ("sku", "family", "unit_price", "launch_date") if c in products.columns])
    if events is not None and not events.is_empty():
        events = events.select("sku", "month", "uplift").filter(pl.col("month") < add_months(origin, horizon))
    return products, events


def origin_forecasts(
    known: pl.DataFrame,
    origin: date,
    horizon: int,
    products: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
    include_lightgbm: bool = True,
    cache: FoldCache | None = None,
) -> pl.DataFrame:
    """Every method's forecast from `origin` for `horizon` months (`sku, month, method, forecast`), from the
    months of `known` before `origin` only: one backtest fold, read from `cache` when an earlier cycle
    computed it from the same inputs. The plan replay reads the same folds."""
    known = known.filter(pl.col("month") < origin)
    products, events = _model_inputs(origin, horizon, products, events)
    # The models read the history only as its monthly series (channels summed, sorted): the key hashes that,
    # not the fact base's rows, which carry the cycle they were built for and would never match again.
    key = (fold_key(origin, horizon, include_lightgbm, monthly_history(known, origin), products, events)
           if cache is not None else None)
    if cache is not None and (stored := cache.get(key)) is not None:
        return stored
    forecasts, _, _ = _carried_fold(known, origin, horizon, products, events, include_lightgbm, (None, None))
    if cache is not None:
        cache.put(key, forecasts)
    return forecasts


def _carried_fold(known, origin, horizon, products, events, include_lightgbm,
                  carried: tuple[ThetaFits | None, dict | None]) -> tuple[pl.DataFrame, ThetaFits, dict | None]:
    """One fold, refitting the models or carrying the fits in `carried` (Theta fits, LightGBM boosters), from
    `_model_inputs`'s products and events."""
    candidates, thetas = candidate_forecasts(known, origin, horizon, carried[0])
    forecasts, boosters = [candidates], None
    if include_lightgbm:
        fitted = fit_and_forecast(known, origin, horizon, products, events, boosters=carried[1])
        boosters = fitted.boosters
        forecasts.append(fitted.forecast)
    return pl.concat(forecasts), thetas, boosters
