"""A global LightGBM forecast trained on every SKU at once (SPEC §5), method `lightgbm`.

Direct multi-horizon: one model per kind of series (intermittent: Tweedie; the rest: L1) with `lag` as a
feature, on rows whose features come only from months before the cut, unit values divided by the SKU's level.
Design notes: docs/forecast.md, *The global model (LightGBM)*.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import lightgbm as lgb
import numpy as np
import polars as pl

from sop_pipeline.forecast.candidates import MOVING_AVERAGE_MONTHS, OUTPUT_SCHEMA
from sop_pipeline.cycle import SEASON_LENGTH, add_months, months_between
from sop_pipeline.forecast.history import impute_stockouts, monthly_history
from sop_pipeline.forecast.patterns import ADI_CUTOFF

logger = logging.getLogger(__name__)

METHOD = "lightgbm"

# Deterministic by construction: a fixed seed, a fixed thread count (2, whatever the machine has) and
# row-wise histograms with `deterministic` give byte-identical models run after run (SPEC §12).
DEFAULT_PARAMS: dict[str, object] = {
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "lambda_l2": 1.0,
    "seed": 0,
    "deterministic": True,
    "num_threads": 2,
    "force_row_wise": True,
    "verbose": -1,
}
# One model per kind of series. Smooth and erratic series learn the median (L1), the forecast that
# minimises absolute error, which is what WMAPE and MASE score. Intermittent series learn a Tweedie
# mean: the median of a series that sells in one month out of three is 0, a useless plan.
SMOOTH_OBJECTIVE: dict[str, object] = {"objective": "l1"}
INTERMITTENT_OBJECTIVE: dict[str, object] = {"objective": "tweedie", "tweedie_variance_power": 1.2}
NUM_BOOST_ROUND = 150
MIN_TRAINING_ROWS = 100
MAX_TRAINING_CUTS = 60
MAX_TRAINING_ROWS = 400_000

_UNIT_FEATURES = (
    "units_lag_1",
    "units_lag_2",
    "units_lag_3",
    "units_lag_6",
    "units_lag_12",
    "units_lag_24",
    "units_same_month_last_year",
    "units_same_month_two_years_ago",
    "mean_3",
    "mean_6",
    "mean_12",
    "std_3",
    "std_6",
    "std_12",
)
FEATURES = (
    "lag",
    "month_of_year",
    *_UNIT_FEATURES,
    "cv_12",
    "revenue_share_12",
    "months_of_history",
    "age_months",
    "unit_price",
    "event_uplift",
    "family",
    "level",
)


@dataclass
class GlobalForecast:
    """The forecasts and, when the model could not be fitted, why a simple method stood in."""

    forecast: pl.DataFrame
    fallback_reason: str | None = None
    feature_importance: dict[str, float] = field(default_factory=dict)
    # The fitted model of each kind of series (`smooth`, `intermittent`), for later origins to reuse.
    boosters: dict[str, lgb.Booster] = field(default_factory=dict)


def _window(y: np.ndarray, cut: int, width: int) -> np.ndarray:
    start = max(cut - width, 0)
    window = y[:, start:cut]
    if window.shape[1] < width:
        pad = np.full((y.shape[0], width - window.shape[1]), np.nan)
        window = np.concatenate([pad, window], axis=1)
    return window


def _nan_stat(func, window: np.ndarray) -> np.ndarray:
    out = np.full(window.shape[0], np.nan)
    alive = ~np.all(np.isnan(window), axis=1)
    if alive.any():
        out[alive] = func(window[alive], axis=1)
    return out


def _column(y: np.ndarray, index: int) -> np.ndarray:
    if 0 <= index < y.shape[1]:
        return y[:, index]
    return np.full(y.shape[0], np.nan)


def _features_at_cut(
    y: np.ndarray,
    cut: int,
    lag: int,
    first_month_index: np.ndarray,
    static: dict[str, np.ndarray],
    uplift: np.ndarray,
    month_of_year: np.ndarray,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and levels for a forecast made at `cut` (data < cut) for month `cut + lag - 1`: of
    every SKU, or of the SKUs `rows` selects (a boolean mask; training builds only the rows it learns
    from). The catalogue-wide parts, each SKU's revenue share and the level a SKU without history takes
    from its family, are computed over every SKU either way."""
    target = cut + lag - 1
    seasonal = target - SEASON_LENGTH * int(np.ceil(lag / SEASON_LENGTH))
    last_year = _window(y, cut, 12)
    revenue = np.nan_to_num(last_year).sum(axis=1) * static["unit_price"]
    total = revenue.sum()
    mean12 = _nan_stat(np.nanmean, last_year)
    level = _level(mean12, static["family"])
    if rows is not None:
        y, last_year, revenue, mean12, level = y[rows], last_year[rows], revenue[rows], mean12[rows], level[rows]
        first_month_index, uplift = first_month_index[rows], uplift[rows]
        static = {name: values[rows] for name, values in static.items()}
    std12 = _nan_stat(np.nanstd, last_year)
    n = y.shape[0]
    columns = {
        "lag": np.full(n, float(lag)),
        "month_of_year": np.full(n, float(month_of_year[target])),
        "units_lag_1": _column(y, cut - 1),
        "units_lag_2": _column(y, cut - 2),
        "units_lag_3": _column(y, cut - 3),
        "units_lag_6": _column(y, cut - 6),
        "units_lag_12": _column(y, cut - 12),
        "units_lag_24": _column(y, cut - 24),
        "units_same_month_last_year": _column(y, seasonal),
        "units_same_month_two_years_ago": _column(y, seasonal - SEASON_LENGTH),
        "mean_3": _nan_stat(np.nanmean, _window(y, cut, 3)),
        "mean_6": _nan_stat(np.nanmean, _window(y, cut, 6)),
        "mean_12": mean12,
        "std_3": _nan_stat(np.nanstd, _window(y, cut, 3)),
        "std_6": _nan_stat(np.nanstd, _window(y, cut, 6)),
        "std_12": std12,
        "cv_12": np.where(mean12 > 0, std12 / np.where(mean12 > 0, mean12, 1.0), np.nan),
        "revenue_share_12": revenue / total if total > 0 else np.zeros(n),
        "months_of_history": np.clip(cut - first_month_index, 0, None).astype(float),
        "age_months": (target - static["launch_index"]).astype(float),
        "unit_price": static["unit_price"],
        "event_uplift": uplift[:, target],
        "family": static["family"],
    }
    for name in _UNIT_FEATURES:
        columns[name] = columns[name] / level
    columns["level"] = np.log(level)
    return np.column_stack([columns[name] for name in FEATURES]), level


def _level(mean12: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Each SKU's recent level, the unit its features and target are divided by; a SKU without history
    takes the median level of its family (of the catalogue when the family has none)."""
    level = mean12.copy()
    known = ~np.isnan(level)
    overall = np.median(level[known]) if known.any() else 1.0
    for code in np.unique(family[~known]):
        peers = known & (family == code)
        level[~known & (family == code)] = np.median(level[peers]) if peers.any() else overall
    return np.maximum(np.nan_to_num(level, nan=1.0), 1.0)


def _is_intermittent(y: np.ndarray) -> np.ndarray:
    """SKUs whose known history has an ADI above the intermittent cut-off (see `patterns`). A SKU
    with no known month yet (a launch) is not: it learns its launch curve with the main model."""
    known = (~np.isnan(y)).sum(axis=1)
    demand_months = (np.nan_to_num(y) > 0).sum(axis=1)
    return (known > 0) & (known > ADI_CUTOFF * demand_months)


def _training_cuts(n_history: int) -> range:
    """The cuts the model learns from: the latest MAX_TRAINING_CUTS, up to the last month with a known
    target. Every lag of the horizon and every month of the year is then seen in training (the latest
    cuts add their short lags)."""
    return range(max(1, n_history - MAX_TRAINING_CUTS), n_history)


def _training_skus(y: np.ndarray, cuts: range, horizon: int, group: np.ndarray) -> np.ndarray:
    """The SKUs of `group` the model learns from: all of them while their training rows (known targets
    at every cut and lag) fit in MAX_TRAINING_ROWS, else a seeded random sample of them that does.

    A large catalogue is sampled by SKU rather than by cut: fewer cuts would drop the long lags and
    months of the year the model has to forecast, while a global model on level-scaled features
    learns the same shapes from a few thousand SKUs as from ten thousand. The forecast still covers
    every SKU of the group."""
    known = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(~np.isnan(y), axis=1)], axis=1)
    rows = sum(known[:, min(cut + horizon, y.shape[1])] - known[:, cut] for cut in cuts)
    rows = np.where(group, rows, 0)
    if rows.sum() <= MAX_TRAINING_ROWS:
        return group
    order = np.random.default_rng(0).permutation(np.flatnonzero(group))
    kept = order[: max(1, int(np.searchsorted(np.cumsum(rows[order]), MAX_TRAINING_ROWS, side="right")))]
    sample = np.zeros_like(group)
    sample[kept] = True
    return sample


def _training_rows(y, cuts, horizon, group, first_index, static, uplift, month_of_year):
    """Features and scaled targets of the SKUs in `group` at every cut and lag whose target is known."""
    blocks, targets = [], []
    n_history = y.shape[1]
    for cut in cuts:
        for lag in range(1, horizon + 1):
            target = cut + lag - 1
            if target >= n_history:
                break
            known = group & ~np.isnan(y[:, target])
            if known.any():
                features, level = _features_at_cut(y, cut, lag, first_index, static, uplift, month_of_year, known)
                blocks.append(features)
                targets.append(y[known, target] / level)
    x_train = np.vstack(blocks) if blocks else np.empty((0, len(FEATURES)))
    y_train = np.concatenate(targets) if targets else np.empty(0)
    return x_train, y_train


def _moving_average(y: np.ndarray) -> np.ndarray:
    return np.nan_to_num(_nan_stat(np.nanmean, _window(y, y.shape[1], MOVING_AVERAGE_MONTHS)))


def _static_attributes(skus: list[str], products: pl.DataFrame | None, first_month: dict[str, date], start: date):
    attributes = pl.DataFrame({"sku": skus})
    if products is not None and not products.is_empty():
        keep = [c for c in ("sku", "family", "unit_price", "launch_date") if c in products.columns]
        attributes = attributes.join(products.select(keep).unique("sku", keep="first", maintain_order=True), on="sku", how="left")
    for name, dtype in (("family", pl.String), ("unit_price", pl.Float64), ("launch_date", pl.Date)):
        if name not in attributes.columns:
            attributes = attributes.with_columns(pl.lit(None, dtype=dtype).alias(name))
    # Coded over the whole product list, not the SKUs selling at this origin, so that a code means the same
    # family at every origin (a model fitted at one origin may forecast at the next ones).
    listed = products["family"] if products is not None and "family" in products.columns else attributes["family"]
    families = sorted(f for f in listed.unique().to_list() if f is not None)
    family_code = {f: i for i, f in enumerate(families)}
    launch_index = []
    for sku, launch in zip(attributes["sku"], attributes["launch_date"], strict=True):
        month = date(launch.year, launch.month, 1) if launch is not None else first_month.get(sku, start)
        # A launch date later than the first sale is a data error; the sales are the evidence.
        if sku in first_month and first_month[sku] < month:
            month = first_month[sku]
        launch_index.append(months_between(start, month))
    return {
        "family": np.array([family_code.get(f, -1) for f in attributes["family"]], dtype=float),
        "unit_price": attributes["unit_price"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        "launch_index": np.array(launch_index),
    }


def fit_and_forecast(
    history: pl.DataFrame,
    origin: date,
    horizon: int,
    products: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
    params: dict[str, object] | None = None,
    boosters: dict[str, lgb.Booster] | None = None,
) -> GlobalForecast:
    """Train on every SKU's months before `origin` and forecast months origin .. origin + horizon − 1.

    With `boosters` (the models a fit at an earlier origin returned) a kind of series that has one is not
    trained again: the model forecasts from features computed at this origin. A backtest does this
    between refits; nothing it reuses has seen a month on or after the origin it was fitted at.

    `history`: `sku, month, units` (optionally `channel`, `is_stockout`; rows on or after the origin
    are dropped here). `products`: `sku, family, unit_price, launch_date`; SKUs launching before the end
    of the horizon without any history are forecast too, from their attributes, and get 0 before their
    launch month. `events`: `sku, month, uplift` (fraction, 0.2 = +20 %), one row per SKU and month.
    """
    series = impute_stockouts(monthly_history(history, origin))
    horizon_end = add_months(origin, horizon)
    skus = set(series["sku"].unique().to_list())
    if products is not None and "launch_date" in products.columns:
        launching = products.filter(pl.col("launch_date").is_not_null() & (pl.col("launch_date") < horizon_end))
        skus |= set(launching["sku"].to_list())
    skus_sorted = sorted(skus)
    if not skus_sorted:
        return GlobalForecast(pl.DataFrame(schema=OUTPUT_SCHEMA))
    start = series["month"].min() if not series.is_empty() else origin
    n_history = months_between(start, origin)
    n_total = n_history + horizon
    months = [add_months(start, i) for i in range(n_total)]
    month_of_year = np.array([m.month for m in months])
    row = {sku: i for i, sku in enumerate(skus_sorted)}

    y = np.full((len(skus_sorted), n_history), np.nan)
    if not series.is_empty():
        idx_s = np.array([row[s] for s in series["sku"]])
        idx_t = np.array([months_between(start, m) for m in series["month"]])
        y[idx_s, idx_t] = series["units"].to_numpy()
    first_month = dict(series.group_by("sku").agg(pl.col("month").min()).iter_rows())
    first_index = np.array(
        [months_between(start, first_month[s]) if s in first_month else n_history for s in skus_sorted]
    )
    static = _static_attributes(skus_sorted, products, first_month, start)

    uplift = np.zeros((len(skus_sorted), n_total))
    if events is not None and not events.is_empty():
        for sku, month, value in events.select("sku", "month", "uplift").iter_rows():
            t = months_between(start, date(month.year, month.month, 1))
            if sku in row and 0 <= t < n_total:
                uplift[row[sku], t] += value

    intermittent = _is_intermittent(y)
    values = np.zeros((len(skus_sorted), horizon))
    importance: dict[str, float] = {}
    reasons = []
    cuts = _training_cuts(n_history)
    trained: dict[str, lgb.Booster] = {}
    for kind, group, objective in (("smooth", ~intermittent, SMOOTH_OBJECTIVE),
                                   ("intermittent", intermittent, INTERMITTENT_OBJECTIVE)):
        if not group.any():
            continue
        booster = (boosters or {}).get(kind)
        if booster is None:
            learners = _training_skus(y, cuts, horizon, group)
            x_train, y_train = _training_rows(y, cuts, horizon, learners, first_index, static, uplift, month_of_year)
            reason = None
            if len(y_train) < MIN_TRAINING_ROWS:
                reason = f"{len(y_train)} training rows, fewer than {MIN_TRAINING_ROWS}"
            elif np.ptp(y_train) == 0:
                reason = "constant target"
            if reason is not None:
                reasons.append(reason)
                logger.warning("lightgbm fell back to a %d-month moving average: %s", MOVING_AVERAGE_MONTHS, reason)
                values[group] = _moving_average(y)[group, None]
                continue
            dataset = lgb.Dataset(
                x_train, y_train, feature_name=list(FEATURES), categorical_feature=["family"], free_raw_data=True
            )
            booster = lgb.train(
                {**DEFAULT_PARAMS, **objective, **(params or {})}, dataset, num_boost_round=NUM_BOOST_ROUND
            )
        trained[kind] = booster
        for lag in range(1, horizon + 1):
            features, level = _features_at_cut(y, n_history, lag, first_index, static, uplift, month_of_year)
            values[group, lag - 1] = booster.predict(features[group]) * level[group]
        for name, gain in zip(FEATURES, booster.feature_importance("gain").tolist(), strict=True):
            importance[name] = importance.get(name, 0.0) + gain
    reason = "; ".join(reasons) or None

    # Nothing sells before its launch month.
    target_index = n_history + np.arange(horizon)
    values[target_index[None, :] < static["launch_index"][:, None]] = 0.0
    frame = pl.DataFrame(
        {
            "sku": np.repeat(skus_sorted, horizon),
            "month": [add_months(origin, h) for _ in skus_sorted for h in range(horizon)],
            "method": METHOD,
            "forecast": np.clip(values.reshape(-1), 0.0, None),
        },
        schema=OUTPUT_SCHEMA,
    ).sort("sku", "method", "month")
    return GlobalForecast(frame, reason, importance, trained)


def forecast_lightgbm(
    history: pl.DataFrame,
    origin: date,
    horizon: int,
    products: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`sku, month, method, forecast` of the global model; see `fit_and_forecast` for the inputs."""
    return fit_and_forecast(history, origin, horizon, products, events).forecast
