"""The cycle's forecast: backtest every step, score its value added, and forecast with each segment's winner.

SPEC §5: FVA is not only a report. For each SKU the production forecast uses the step that won the
backtest in the SKU's ABC-XYZ segment (or, where that segment was not scored, its family, then the
total); its p10/p50/p90 come from that method's own backtest errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.backtest import DEFAULT_ORIGINS, backtest
from sop_pipeline.forecast.candidates import forecast_candidates
from sop_pipeline.forecast.fva import choose_champion, forecast_value_added, fva_interval
from sop_pipeline.forecast.global_model import forecast_lightgbm
from sop_pipeline.forecast.quantiles import forecast_quantiles, residual_quantiles
from sop_pipeline.plan.consensus import consensus_backtest

# Most specific first: a SKU takes the champion of the first view that scored its segment.
SEGMENT_VIEWS = (("abc_xyz", "segment"), ("family", "family"), ("total", None))
FALLBACK_METHODS = ("lightgbm", "naive")  # when the chosen method produced nothing for a SKU

FORECAST_SCHEMA = {
    "sku": pl.String, "month": pl.Date, "lag": pl.Int32, "step": pl.String, "method": pl.String,
    "p10": pl.Float64, "p50": pl.Float64, "p90": pl.Float64,
}


@dataclass(frozen=True)
class CycleForecast:
    backtest: pl.DataFrame  # sku, origin, month, lag, actual, is_stockout, method, forecast, scale
    fva: pl.DataFrame  # segment_type, segment, lag, step, ..., fva_vs_naive, fva_vs_previous, fva_low, fva_high
    champions: pl.DataFrame  # segment_type, segment, step, method, mean_wmape
    forecast: pl.DataFrame  # FORECAST_SCHEMA


def selling_skus(products: pl.DataFrame, cycle: date) -> pl.DataFrame:
    """SKUs still selling at the cycle, with the first month they no longer sell (null if none)."""
    return products.filter(pl.col("discontinue_date").is_null() | (pl.col("discontinue_date") >= cycle)).select(
        "sku",
        pl.col("discontinue_date").dt.month_start().dt.offset_by("1mo").alias("stops_selling"),
    )


def chosen_methods(products: pl.DataFrame, champions: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU: the winning `step` and `method` of its most specific scored segment."""
    chosen = products.select("sku").with_columns(pl.lit(None, pl.String).alias("step"), pl.lit(None, pl.String).alias("method"))
    for segment_type, column in SEGMENT_VIEWS:
        winners = champions.filter(pl.col("segment_type") == segment_type)
        if winners.is_empty() or (column is not None and column not in products.columns):
            continue
        key = products.select("sku", pl.col(column).alias("segment")) if column else products.select(
            "sku", pl.lit("total").alias("segment"))
        found = key.join(winners.select("segment", "step", "method"), on="segment", how="inner").drop("segment")
        chosen = chosen.join(found, on="sku", how="left", suffix="_view").select(
            "sku",
            pl.coalesce("step", "step_view").alias("step"),
            pl.coalesce("method", "method_view").alias("method"),
        )
    return chosen.with_columns(pl.col("step").fill_null("lightgbm"), pl.col("method").fill_null("lightgbm"))


def _pick(forward: pl.DataFrame, chosen: pl.DataFrame) -> pl.DataFrame:
    """Each SKU's forecast by its chosen method, else by the first fallback that forecast it."""
    ranked = chosen.select("sku", "step", pl.concat_list(pl.col("method"), pl.lit(list(FALLBACK_METHODS))).alias("m"))
    ranked = ranked.explode("m").with_columns(pl.int_range(pl.len()).over("sku").alias("rank")).rename({"m": "method"})
    candidates = forward.join(ranked, on=["sku", "method"], how="inner")
    best = candidates.group_by("sku").agg(pl.col("rank").min())
    return candidates.join(best, on=["sku", "rank"], how="semi").drop("rank")


def build_cycle_forecast(
    history: pl.DataFrame,
    products: pl.DataFrame,
    cycle: date,
    horizon: int,
    n_origins: int = DEFAULT_ORIGINS,
    uplift: pl.DataFrame | None = None,
    overrides: pl.DataFrame | None = None,
) -> CycleForecast:
    """The whole forecast stage of one cycle from the fact base (`history`: sku, channel, month, units,
    is_stockout; `products`: dim_products). Only months before `cycle` are ever read.

    `uplift` (`sku, month, uplift`) is the events' effect per SKU-month, a feature of the global model;
    with `overrides` (as landed, every cycle) it also replays the consensus step on each backtest origin,
    so the FVA table scores consensus like every other step. The champion is chosen among the forecast
    steps only; `production` (each SKU by its segment's champion) and `consensus` are built on it.
    """
    history = history.filter(pl.col("month") < cycle)
    scored = backtest(history, horizon=horizon, n_origins=n_origins, products=products, events=uplift)
    champions = choose_champion(forecast_value_added(scored, products))
    every_sku = chosen_methods(products, champions)
    if not scored.is_empty():
        pairs = every_sku.select("sku", "method")
        production = scored.join(pairs, on=["sku", "method"], how="semi").with_columns(
            pl.lit("production").alias("method"))
        steps = [scored, production]
        if uplift is not None and overrides is not None:
            steps.append(consensus_backtest(scored, pairs, products, uplift, overrides))
        scored = pl.concat(steps)
    fva = forecast_value_added(scored, products)
    intervals = fva_interval(scored, fva, products)
    fva = fva.join(intervals.select("segment_type", "segment", "lag", "step", "fva_low", "fva_high", "is_significant"),
                   on=["segment_type", "segment", "lag", "step"], how="left")
    selling = selling_skus(products, cycle)
    chosen = every_sku.join(selling, on="sku", how="semi")  # a SKU's champion does not depend on the others

    forward = pl.concat([
        forecast_candidates(history, cycle, horizon),
        forecast_lightgbm(history, cycle, horizon, products, uplift),
    ])
    picked = _pick(forward.join(selling, on="sku", how="semi"), chosen)
    own_errors = scored.join(chosen.select("sku", "method"), on=["sku", "method"], how="semi")
    banded = forecast_quantiles(picked.select("sku", "month", "forecast"), cycle, residual_quantiles(own_errors))
    forecast = (
        banded.join(picked.select("sku", "month", "step", "method"), on=["sku", "month"])
        .join(selling, on="sku")
        # Past its last selling month a SKU has no demand, whatever its history says.
        .with_columns(
            [pl.when(pl.col("stops_selling").is_not_null() & (pl.col("month") >= pl.col("stops_selling")))
             .then(0.0).otherwise(pl.col(p)).alias(p) for p in ("p10", "p50", "p90")]
        )
        .filter(pl.col("month") < add_months(cycle, horizon))
        .select([pl.col(name).cast(dtype) for name, dtype in FORECAST_SCHEMA.items()])
        .sort("sku", "month")
    )
    return CycleForecast(backtest=scored, fva=fva, champions=champions, forecast=forecast)
