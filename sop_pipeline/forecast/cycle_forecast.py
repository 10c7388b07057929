"""The cycle's forecast: backtest every step, score its value added, and forecast with each segment's winner.

SPEC §5: FVA is not only a report. For each SKU the production forecast uses the step that won the
backtest on the SKU's demand pattern (ADI/CV²; the catalogue's winner where the pattern's own evidence
is not clear, see `fva.choose_champion`); a SKU with fewer than 6 months of history is new and takes
the global model, which forecasts it from similar SKUs. Its p10/p50/p90 come from that method's own
backtest errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.backtest import DEFAULT_ORIGINS, backtest
from sop_pipeline.forecast.candidates import CLASSICAL_METHODS, forecast_candidates
from sop_pipeline.forecast.folds import FoldCache
from sop_pipeline.forecast.fva import choose_champion, forecast_value_added, fva_interval
from sop_pipeline.forecast.global_model import METHOD as GLOBAL_METHOD
from sop_pipeline.forecast.global_model import forecast_lightgbm
from sop_pipeline.forecast.history import monthly_history
from sop_pipeline.forecast.metrics import score
from sop_pipeline.forecast.patterns import NEW_SKU_MONTHS, demand_patterns
from sop_pipeline.forecast.quantiles import forecast_quantiles, residual_quantiles

# Most specific first: a SKU takes the champion of the first view that scored its segment.
SEGMENT_VIEWS = (("demand_pattern", "pattern"), ("total", None))
FALLBACK_METHODS = ("lightgbm", "naive")  # when the chosen method produced nothing for a SKU
BASE_METHODS = (*CLASSICAL_METHODS, GLOBAL_METHOD)
BACKTEST_ORDER = ["origin", "sku", "method", "month"]
COMBINED_METHODS = 3  # the combination averages this many of the best methods of a demand pattern

FORECAST_SCHEMA = {
    "sku": pl.String, "month": pl.Date, "lag": pl.Int32, "step": pl.String, "method": pl.String,
    "p10": pl.Float64, "p50": pl.Float64, "p90": pl.Float64,
}


# The consensus replayed on the backtest: (backtest rows, each SKU's chosen method by origin, products,
# event uplift) -> rows of method 'consensus'.
ConsensusStep = Callable[[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class CycleForecast:
    backtest: pl.DataFrame  # sku, origin, month, lag, actual, is_stockout, method, forecast, scale
    fva: pl.DataFrame  # segment_type, segment, lag, step, ..., fva_vs_naive, fva_vs_previous, fva_low, fva_high
    champions: pl.DataFrame  # segment_type, segment, step, method, mean_mase, gain_low, gain_high
    patterns: pl.DataFrame  # sku, months_of_history, adi, cv2, pattern (at the cycle)
    combined: pl.DataFrame  # pattern, method: the methods each pattern's combination averages
    forecast: pl.DataFrame  # FORECAST_SCHEMA
    candidates: pl.DataFrame  # sku, month, method, forecast: every method's forward forecast


def selling_skus(products: pl.DataFrame, cycle: date) -> pl.DataFrame:
    """SKUs still selling at the cycle, with the first month they no longer sell (null if none)."""
    return products.filter(pl.col("discontinue_date").is_null() | (pl.col("discontinue_date") >= cycle)).select(
        "sku",
        pl.col("discontinue_date").dt.month_start().dt.offset_by("1mo").alias("stops_selling"),
    )


def _keys(frame: pl.DataFrame) -> list[str]:
    """`sku`, and `origin` where the frame is per backtest origin."""
    return [key for key in ("sku", "origin") if key in frame.columns]


def chosen_methods(products: pl.DataFrame, champions: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU (per SKU and origin, if `products` has an `origin`: the patterns a SKU had at each
    backtest origin): the winning `step` and `method` of its most specific scored segment."""
    keys = _keys(products)
    chosen = products.select(keys).with_columns(pl.lit(None, pl.String).alias("step"), pl.lit(None, pl.String).alias("method"))
    for segment_type, column in SEGMENT_VIEWS:
        winners = champions.filter(pl.col("segment_type") == segment_type)
        if winners.is_empty() or (column is not None and column not in products.columns):
            continue
        key = products.select(*keys, pl.col(column).alias("segment")) if column else products.select(
            *keys, pl.lit("total").alias("segment"))
        found = key.join(winners.select("segment", "step", "method"), on="segment", how="inner").drop("segment")
        chosen = chosen.join(found, on=keys, how="left", suffix="_view").select(
            *keys,
            pl.coalesce("step", "step_view").alias("step"),
            pl.coalesce("method", "method_view").alias("method"),
        )
    return chosen.with_columns(pl.col("step").fill_null("lightgbm"), pl.col("method").fill_null("lightgbm"))


def combined_methods(scored: pl.DataFrame, patterns: pl.DataFrame, n: int = COMBINED_METHODS) -> pl.DataFrame:
    """`pattern, method`: per demand pattern, and for `total` (SKUs without a pattern), the `n`
    methods with the lowest mean MASE over lags in the backtest.

    MASE, not WMAPE: members are picked for working on most series of the pattern, each series counting
    once, while a pooled WMAPE ranking follows the few largest SKUs (on the hospital data it picked
    seasonal naive, which is poor on most series). Whether the combination then earns its place is
    still judged by WMAPE, like every step."""
    rows = scored.filter(pl.col("method").is_in(list(BASE_METHODS)))
    by_pattern = rows.join(patterns.select(*_keys(patterns), "pattern"), on=_keys(patterns), how="inner")
    views = [by_pattern, rows.with_columns(pl.lit("total").alias("pattern"))]
    means = score(pl.concat(views, how="diagonal_relaxed"), by=["pattern"]).group_by("pattern", "method").agg(
        pl.col("mase").sort().mean(), pl.col("wmape").sort().mean()
    )
    return (
        means.filter(pl.col("mase").is_not_null() | pl.col("wmape").is_not_null())
        .sort("pattern", "mase", "wmape", "method", nulls_last=True)
        .group_by("pattern", maintain_order=True)
        .head(n)
        .select("pattern", "method")
    )


def combine(forecasts: pl.DataFrame, patterns: pl.DataFrame, combined: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The `combination` method: each SKU's mean of its pattern's combined methods (the total's when it
    has no scored pattern), on every row of `keys` where all of them forecast. `patterns` may be per SKU
    and origin (`patterns_at_origins`), so that each backtest origin combines by the pattern known then."""
    on = _keys(patterns)
    skus = forecasts.select(on).unique().join(patterns.select(*on, "pattern"), on=on, how="left")
    known = combined["pattern"].unique().implode()
    skus = skus.with_columns(pl.when(pl.col("pattern").is_in(known)).then("pattern").otherwise(pl.lit("total")).alias("pattern"))
    members = skus.join(combined, on="pattern").select(*on, "method")
    needed = members.group_by(on).agg(pl.len().alias("_needed"))
    return (
        forecasts.join(members, on=[*on, "method"], how="semi")
        .group_by(keys)
        # Sorted before averaging: rows reach a group in no fixed order, and a float sum in another order
        # differs in the last bit, which would make a rerun publish another plan.
        .agg(pl.col("forecast").sort().mean(), pl.len().alias("_n"), *[pl.col(c).first() for c in forecasts.columns
                                                                if c not in (*keys, "forecast", "method")])
        .join(needed, on=on)
        .filter(pl.col("_n") == pl.col("_needed"))
        .drop("_n", "_needed")
        .with_columns(pl.lit("combination").alias("method"))
        .select(forecasts.columns)
        .sort(keys)  # group_by order is arbitrary; the output must not be
    )


def patterns_at_origins(history: pl.DataFrame, origins: list) -> pl.DataFrame:
    """`sku, origin, pattern`: each SKU's demand pattern as it read from the months before each backtest
    origin. The backtest combines and picks by these, not by the pattern at the cycle, which the months
    after an origin helped to shape."""
    frames = [demand_patterns(monthly_history(history, origin)).select("sku", pl.lit(origin).alias("origin"), "pattern")
              for origin in origins]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"sku": pl.String, "origin": pl.Date, "pattern": pl.String})


def production_methods(rows: pl.DataFrame, chosen: pl.DataFrame) -> pl.DataFrame:
    """`rows` (with `sku` and `months_of_history`) with the `method` production uses for each: the
    global model for a new SKU (fewer than 6 months of history), its chosen method otherwise."""
    on = _keys(chosen)
    return rows.join(chosen.select(*on, pl.col("method").alias("_chosen")), on=on, how="left").with_columns(
        pl.when(pl.col("months_of_history") < NEW_SKU_MONTHS)
        .then(pl.lit(GLOBAL_METHOD))
        .otherwise(pl.col("_chosen"))
        .alias("method")
    ).drop("_chosen")


def with_combination(scored: pl.DataFrame, then: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the backtest rows `scored` plus the combination's, scored by the patterns `then` each SKU had at each
    origin; `pattern, method`: the methods each pattern's combination averages)."""
    combined = combined_methods(scored, then)
    if not scored.is_empty():
        scored = pl.concat([scored, combine(scored, then, combined, ["sku", "origin", "month"])]).sort(BACKTEST_ORDER)
    return scored, combined


def production_choice(products: pl.DataFrame, patterns: pl.DataFrame, champions: pl.DataFrame,
                      cycle: date) -> pl.DataFrame:
    """`sku, months_of_history, method, step`: the method and step the production forecast of `cycle` takes
    for each SKU selling then (its pattern's champion; the global model for a new SKU). `products` carries
    each SKU's `pattern`; `patterns` is `demand_patterns` at the cycle. The forecast stage and the plan
    replay (at each replayed month) both choose by it."""
    every_sku = chosen_methods(products, champions)
    selling = selling_skus(products, cycle)
    history_months = products.select("sku").join(patterns.select("sku", "months_of_history"), on="sku", how="left")
    chosen = production_methods(
        history_months.with_columns(pl.col("months_of_history").fill_null(0)),
        every_sku.join(selling, on="sku", how="semi"),  # a SKU's champion does not depend on the others
    ).join(every_sku.select("sku", "step"), on="sku").join(selling, on="sku", how="semi")
    return chosen.with_columns(
        pl.when(pl.col("months_of_history") < NEW_SKU_MONTHS).then(pl.lit(GLOBAL_METHOD)).otherwise("step").alias("step")
    )


def pick_production(forward: pl.DataFrame, chosen: pl.DataFrame) -> pl.DataFrame:
    """Each SKU's forecast (`forward`: sku, month, method, forecast) by its `production_choice` method, else
    by the first fallback that forecast it."""
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
    consensus_step: ConsensusStep | None = None,
    fold_cache: FoldCache | None = None,
    uplift_at: Callable[[date], pl.DataFrame] | None = None,
) -> CycleForecast:
    """The whole forecast stage of one cycle from the fact base (`history`: sku, channel, month, units,
    is_stockout, optionally is_missing; `products`: dim_products). Only months before `cycle` are read.

    `uplift` (`sku, month, uplift`) is the events' effect per SKU-month, a feature of the global model;
    `uplift_at(origin)` is the same as known at a backtest origin (default: `uplift` at every origin).
    `consensus_step(scored, chosen, products, uplift)` replays the consensus on each backtest origin (the
    wiring passes sop_pipeline.plan.consensus's, with the overrides as landed), so the FVA table scores
    consensus like every other step; the forecast package itself knows nothing of plans. The champion is chosen among the forecast
    steps only; `production` (each SKU by its pattern's champion, new SKUs by the global model) and
    `consensus` are built on it.
    """
    history = history.filter(pl.col("month") < cycle)
    patterns = demand_patterns(monthly_history(history, cycle))
    products = products.join(patterns.select("sku", "pattern"), on="sku", how="left")
    scored = backtest(history, horizon=horizon, n_origins=n_origins, products=products, events=uplift_at or uplift,
                      cache=fold_cache)
    then = patterns_at_origins(history, scored["origin"].unique().sort().to_list())
    scored, combined = with_combination(scored, then)
    champions = choose_champion(scored, forecast_value_added(scored, products), products)
    if not scored.is_empty():
        pairs = production_methods(scored.select("sku", "origin", "months_of_history").unique(),
                                   chosen_methods(then, champions))
        production = scored.join(pairs, on=["sku", "origin", "months_of_history", "method"], how="semi").with_columns(
            pl.lit("production").alias("method"))
        steps = [scored, production]
        if uplift is not None and consensus_step is not None:
            steps.append(consensus_step(scored, pairs, products, uplift))
        scored = pl.concat(steps).sort(BACKTEST_ORDER)
    fva = forecast_value_added(scored, products)
    intervals = fva_interval(scored, fva, products)
    fva = fva.join(intervals.drop("step_order", "fva_vs_naive"), on=["segment_type", "segment", "lag", "step"], how="left")
    selling = selling_skus(products, cycle)
    chosen = production_choice(products, patterns, champions, cycle)
    forward = pl.concat([
        forecast_candidates(history, cycle, horizon),
        forecast_lightgbm(history, cycle, horizon, products, uplift),
    ])
    forward = pl.concat([forward, combine(forward, patterns, combined, ["sku", "month"])]).sort("sku", "method", "month")
    picked = pick_production(forward.join(selling, on="sku", how="semi"), chosen)
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
    return CycleForecast(backtest=scored, fva=fva, champions=champions, forecast=forecast, candidates=forward,
                         patterns=patterns, combined=combined)
