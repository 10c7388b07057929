"""Safety stock per SKU from the target service level and the forecast error over its lead time (SPEC §7).

The error is measured, not assumed: for every backtest origin, the actual minus the forecast summed
over lags 1..L (L = the lead time in months) is one draw of "how much more than planned sold before a
new order could arrive". The safety stock is the service-level quantile of those draws (linear
interpolation between order statistics, as numpy and polars do by default), floored at 0: a forecast
that over-forecasts most of the time needs no buffer.

With fewer than `MIN_ERRORS` draws an empirical 98th percentile is just the maximum, so the textbook
z · σ · √L takes over, with σ estimated from whatever errors exist. No error at all gives 0: a SKU with
no backtest (a launch) has no evidence either way, and its buffer is a planner's decision.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

import polars as pl

# Twelve backtest origins leave about 8–11 lead-time windows per SKU for lead times of 1–4 months.
MIN_ERRORS = 8

DEFAULT_SERVICE_LEVELS: Mapping[str, float] = {"A": 0.98, "B": 0.95, "C": 0.90}


def service_level_for(abc_class: str | None, levels: Mapping[str, float] = DEFAULT_SERVICE_LEVELS) -> float:
    """Target service level of an ABC class; a SKU without a class (no trailing revenue yet) gets class C's."""
    if abc_class is not None and abc_class in levels:
        return levels[abc_class]
    return levels["C"]


def empirical_quantile(values: Sequence[float], level: float) -> float:
    """Quantile with linear interpolation between order statistics (numpy's default method)."""
    ordered = sorted(values)
    position = level * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def safety_stock(
    errors_over_lead_time: Sequence[float],
    service_level: float,
    monthly_errors: Sequence[float] = (),
    lead_time_months: int = 1,
    min_errors: int = MIN_ERRORS,
) -> float:
    """Units of buffer that cover the lead-time forecast error with probability `service_level`.

    `errors_over_lead_time` are cumulative errors (actual − forecast summed over the lead time), one per
    backtest origin. Below `min_errors` of them: z · σ_L, where σ_L is their standard deviation, or, with
    fewer than two of them, the standard deviation of `monthly_errors` (one-month errors) times √L.
    """
    if not 0 < service_level < 1:
        raise ValueError(f"service level must lie strictly between 0 and 1, got {service_level}")
    if len(errors_over_lead_time) >= min_errors:
        return max(empirical_quantile(errors_over_lead_time, service_level), 0.0)
    if len(errors_over_lead_time) >= 2:
        sigma = statistics.stdev(errors_over_lead_time)
    elif len(monthly_errors) >= 2:
        sigma = statistics.stdev(monthly_errors) * math.sqrt(max(lead_time_months, 1))
    else:
        return 0.0
    return max(statistics.NormalDist().inv_cdf(service_level) * sigma, 0.0)


def lead_time_errors(backtest: pl.DataFrame, lead_time_months: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU and backtest origin whose whole lead-time window was scored: `sku, origin, error`.

    `backtest` holds one method's rows (`sku, origin, lag, actual, forecast`, optionally `is_stockout`);
    `lead_time_months` holds `sku, lead_time_months`. The window is lags 1..max(L, 1): even an order that
    arrives within the month is only placed once a month. A window with a stockout month is dropped, its
    actual is censored demand, and so is one with a missing lag (too recent an origin) or an unknown
    actual (a month whose sales are missing, not zero).
    """
    frame = backtest.join(lead_time_months, on="sku", how="inner").with_columns(
        pl.max_horizontal(pl.col("lead_time_months"), pl.lit(1)).alias("_window")
    )
    frame = frame.filter(pl.col("lag") <= pl.col("_window"))
    stockout = pl.col("is_stockout").any() if "is_stockout" in frame.columns else pl.lit(False)
    return (
        frame.group_by("sku", "origin")
        .agg(
            # Sorted before adding: the backtest's rows reach a group in no fixed order, and the buffer must
            # not move in the last bit between reruns.
            (pl.col("actual") - pl.col("forecast")).sort().sum().alias("error"),
            pl.col("lag").n_unique().alias("_lags"),
            pl.col("_window").first().alias("_window"),
            stockout.alias("_stockout"),
            pl.col("actual").is_null().any().alias("_unknown"),
        )
        .filter((pl.col("_lags") == pl.col("_window")) & ~pl.col("_stockout") & ~pl.col("_unknown"))
        .select("sku", "origin", "error")
        .sort("sku", "origin")
    )


def safety_stock_by_sku(
    backtest: pl.DataFrame,
    products: pl.DataFrame,
    levels: Mapping[str, float] = DEFAULT_SERVICE_LEVELS,
    min_errors: int = MIN_ERRORS,
) -> pl.DataFrame:
    """One row per product: `sku, service_level, n_errors, safety_stock`.

    `products` holds `sku, abc_class, lead_time_months`; `backtest` one method's rows as for
    `lead_time_errors`. The lag-1 errors feed the √L fallback.
    """
    windows = lead_time_errors(backtest, products.select("sku", "lead_time_months"))
    by_sku: dict[str, list[float]] = {}
    for sku, error in windows.select("sku", "error").iter_rows():
        by_sku.setdefault(sku, []).append(error)
    monthly: dict[str, list[float]] = {}
    lag_one = backtest.filter((pl.col("lag") == 1) & pl.col("actual").is_not_null())
    if "is_stockout" in lag_one.columns:
        lag_one = lag_one.filter(~pl.col("is_stockout"))
    for sku, actual, forecast in lag_one.sort("sku", "origin").select("sku", "actual", "forecast").iter_rows():
        monthly.setdefault(sku, []).append(actual - forecast)
    rows = []
    for sku, abc_class, lead in products.sort("sku").select("sku", "abc_class", "lead_time_months").iter_rows():
        level = service_level_for(abc_class, levels)
        errors = by_sku.get(sku, [])
        buffer = safety_stock(errors, level, monthly.get(sku, []), lead, min_errors)
        rows.append({"sku": sku, "service_level": level, "n_errors": len(errors), "safety_stock": buffer})
    schema = {"sku": pl.String, "service_level": pl.Float64, "n_errors": pl.Int64, "safety_stock": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
