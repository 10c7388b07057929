"""Each policy's forecast and forecast errors at one past month, from only what was known then: the
forecast stage's backtest folds (cached in the home), the evidence a cycle run then would have scored, and
the champion and consensus chosen on it (docs/replay.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.backtest import BACKTEST_SCHEMA, MIN_TRAINING_MONTHS, backtest_origins
from sop_pipeline.forecast.fva import choose_champion, forecast_value_added
from sop_pipeline.forecast.history import lag_expr, monthly_history
from sop_pipeline.forecast.metrics import mase_scale
from sop_pipeline.forecast.patterns import demand_patterns
from sop_pipeline.forecast.cycle_forecast import (
    combine,
    patterns_at_origins,
    pick_production,
    production_choice,
    selling_skus,
    with_combination,
)
from sop_pipeline.forecast.events import origin_event_uplift
from sop_pipeline.plan.consensus import apply_consensus

# origin_forecasts(known, origin, horizon, products, events) -> sku, month, method, forecast
Forecaster = Callable[[pl.DataFrame, date, int, pl.DataFrame | None, pl.DataFrame | None], pl.DataFrame]
FORECAST_SCHEMA = {"sku": pl.String, "month": pl.Date, "method": pl.String, "forecast": pl.Float64}
HISTORY_COLUMNS = ("sku", "channel", "month", "units", "is_stockout", "is_missing")


class Folds:
    """Every method's forecast from each origin, each fold computed once per replay (and, through the
    forecaster's cache, once per home), and the backtest evidence a past month could read."""

    def __init__(self, history: pl.DataFrame, products: pl.DataFrame, events: pl.DataFrame, horizon: int,
                 n_origins: int, forecaster: Forecaster, min_training_months: int = MIN_TRAINING_MONTHS):
        columns = [c for c in HISTORY_COLUMNS if c in history.columns]
        # One canonical frame: a fold's cache key reads its rows in order.
        self.history = history.select(columns).sort([c for c in ("sku", "channel", "month") if c in columns])
        self.products = products.sort("sku")
        self.events = events
        self.horizon = horizon
        self.n_origins = n_origins
        self.min_training_months = min_training_months
        self._forecaster = forecaster
        self._folds: dict[date, pl.DataFrame] = {}
        self._uplift: dict[date, pl.DataFrame] = {}
        self._evidence: dict[date, pl.DataFrame] = {}
        self._scales: dict[date, pl.DataFrame] = {}
        self._patterns: dict[date, pl.DataFrame] = {}

    def uplift(self, origin: date) -> pl.DataFrame:
        """`sku, month, uplift, event_ids` up to the horizon's end, as known at `origin`
        (`events.origin_event_uplift`, what the forecast stage's backtest folds read too)."""
        if origin not in self._uplift:
            self._uplift[origin] = origin_event_uplift(self.history, self.events, self.products, origin,
                                                       self.horizon)
        return self._uplift[origin]

    def fold(self, origin: date) -> pl.DataFrame:
        """`sku, month, method, forecast`: every method's forecast from `origin`, from the months before it."""
        if origin not in self._folds:
            known = self.history.filter(pl.col("month") < origin)
            if known.is_empty():
                self._folds[origin] = pl.DataFrame(schema=FORECAST_SCHEMA)
            else:
                forecast = self._forecaster(known, origin, self.horizon, self.products, self.uplift(origin))
                self._folds[origin] = forecast.select(list(FORECAST_SCHEMA)).cast(FORECAST_SCHEMA)
        return self._folds[origin]

    def evidence(self, month: date) -> pl.DataFrame:
        """BACKTEST_SCHEMA rows a cycle run at `month` would have scored: the folds of its backtest origins
        against the actuals known before `month` (the forecast stage's `backtest`, fold by fold)."""
        if month not in self._evidence:
            self._evidence[month] = self._score(month)
        return self._evidence[month]

    def _score(self, month: date) -> pl.DataFrame:
        known = self.history.filter(pl.col("month") < month)
        origins = backtest_origins(known, self.n_origins, self.min_training_months)
        if not origins:
            return pl.DataFrame(schema=BACKTEST_SCHEMA)
        last = add_months(known["month"].max(), 1)
        actuals = monthly_history(known, last).rename({"units": "actual"}).filter(pl.col("actual").is_not_null())
        parts = []
        for origin in origins:
            parts.append(
                self.fold(origin)
                .join(actuals, on=["sku", "month"], how="inner")
                .join(self._scale(origin), on="sku", how="left")
                .with_columns(pl.col("months_of_history").fill_null(0))
                .with_columns(pl.lit(origin).alias("origin"), lag_expr(origin).alias("lag"))
            )
        return (
            pl.concat(parts)
            .select([pl.col(name).cast(dtype) for name, dtype in BACKTEST_SCHEMA.items()])
            .sort("origin", "sku", "method", "month")
        )


    def _scale(self, origin: date) -> pl.DataFrame:
        """`sku, scale, months_of_history` at `origin`: the MASE scale and history length from the months
        before it (the same for every later month that reads this origin's fold)."""
        if origin not in self._scales:
            series = monthly_history(self.history, origin)
            self._scales[origin] = mase_scale(series).join(
                series.group_by("sku").agg(pl.col("units").is_not_null().sum().alias("months_of_history")), on="sku"
            )
        return self._scales[origin]

    def patterns(self, origins: list[date]) -> pl.DataFrame:
        """`cycle_forecast.patterns_at_origins` of `origins`, each origin's patterns computed once."""
        for origin in origins:
            if origin not in self._patterns:
                self._patterns[origin] = patterns_at_origins(self.history, [origin])
        frames = [self._patterns[origin] for origin in origins]
        return pl.concat(frames) if frames else patterns_at_origins(self.history, [])


def production_at(folds: Folds, month: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the production forecast from `month`: `sku, month, method, forecast`; the evidence rows of each SKU's
    production method, for its safety stock). The selection steps of `cycle_forecast.build_cycle_forecast`, on the
    evidence known at `month`."""
    history = folds.history.filter(pl.col("month") < month)
    patterns = demand_patterns(monthly_history(history, month))
    products = folds.products.join(patterns.select("sku", "pattern"), on="sku", how="left")
    scored, combined = with_combination(folds.evidence(month), folds.patterns(
        folds.evidence(month)["origin"].unique().sort().to_list()))
    champions = choose_champion(scored, forecast_value_added(scored, products), products)
    chosen = production_choice(products, patterns, champions, month)
    forward = folds.fold(month)
    if not forward.is_empty():
        forward = pl.concat([forward, combine(forward, patterns, combined, ["sku", "month"])]).sort(
            "sku", "method", "month")
        forward = pick_production(forward.join(selling_skus(folds.products, month), on="sku", how="semi"), chosen)
    picked = forward
    errors = scored.join(picked.select("sku", "method").unique(), on=["sku", "method"], how="semi")
    return picked.select(list(FORECAST_SCHEMA)).sort("sku", "month"), errors


def consensus_at(folds: Folds, month: date, production: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """`sku, month, method, forecast`: the production forecast plus events and the overrides landed for the
    cycle of `month`, by the plan's own rule."""
    if production.is_empty():
        return production
    planned = apply_consensus(production, month, folds.products, folds.uplift(month), overrides)
    return planned.select("sku", "month", "method", pl.col("consensus").alias("forecast")).cast(FORECAST_SCHEMA)


def method_at(folds: Folds, month: date, method: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one method's forecast from `month`, its evidence rows) for the SKUs selling then."""
    selling = selling_skus(folds.products, month)
    forward = folds.fold(month).filter(pl.col("method") == method).join(selling, on="sku", how="semi")
    return forward.sort("sku", "month"), folds.evidence(month).filter(pl.col("method") == method)


def stop_selling(forecast: pl.DataFrame, products: pl.DataFrame, month: date) -> pl.DataFrame:
    """The forecast of the SKUs still selling at `month`, 0 from the month they stop (as the live forecast)."""
    selling = selling_skus(products, month)
    return forecast.join(selling, on="sku", how="inner").with_columns(
        pl.when(pl.col("stops_selling").is_not_null() & (pl.col("month") >= pl.col("stops_selling")))
        .then(0.0).otherwise(pl.col("forecast").clip(lower_bound=0.0)).alias("forecast")
    ).drop("stops_selling")
