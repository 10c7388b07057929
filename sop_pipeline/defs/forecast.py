"""Forecast: the backtest of every process step, its Forecast Value Added, and the production forecast."""

import dagster as dg
import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import add_months, parse_cycle
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.cycle import months_between
from sop_pipeline.forecast.folds import FoldCache
from sop_pipeline.forecast.cycle_forecast import build_cycle_forecast
from sop_pipeline.forecast.events import cycle_event_uplift, origin_event_uplift
from sop_pipeline.plan.consensus import consensus_backtest
from sop_pipeline.faults import fault_point
from sop_pipeline.warehouse import connect, fetch_frame, write_cycle_tables

OUTPUT_SCHEMA = "sop"
# Each table's description and columns come from the output registry (sop_pipeline.outputs).
SPECS = [
    dg.AssetSpec("forecast_backtest", group_name="forecast", kinds={"duckdb", "lightgbm"},
                 deps=["fct_demand_monthly", "dim_products", "stg_raw__events", "stg_raw__overrides"]),
    dg.AssetSpec("fva", group_name="forecast", kinds={"duckdb"}, deps=["forecast_backtest"]),
    dg.AssetSpec("forecast_champions", group_name="forecast", kinds={"duckdb"}, deps=["fva"]),
    dg.AssetSpec("forecast", group_name="forecast", kinds={"duckdb"}, deps=["forecast_champions"]),
]
A_SEGMENT_CHECK = dg.AssetCheckSpec(
    "production_beats_seasonal_naive_on_a_segments", asset="fva",
    description="Warns when an A segment's production step is less accurate than seasonal naive.",
)


def a_segments_worse_than_seasonal_naive(fva: pl.DataFrame) -> pl.DataFrame:
    """A segments whose production step has a higher mean WMAPE over the horizon than seasonal naive."""
    means = (
        fva.filter((pl.col("segment_type") == "abc_xyz") & pl.col("segment").str.starts_with("A"))
        .group_by("segment", "step").agg(pl.col("wmape").mean())
    )
    naive = means.filter(pl.col("step") == "seasonal_naive").select("segment", pl.col("wmape").alias("seasonal_naive"))
    return (
        means.filter(pl.col("step") == "production").join(naive, on="segment")
        .filter(pl.col("wmape") > pl.col("seasonal_naive")).sort("segment")
    )


@dg.multi_asset(specs=SPECS, check_specs=[A_SEGMENT_CHECK], partitions_def=cycles,
                backfill_policy=one_cycle_per_run, can_subset=False, name="forecast_stage")
def forecast_stage(context: dg.AssetExecutionContext, sop: SopConfig):
    """The forecast stage of one cycle, written to schema `sop` keyed by cycle (earlier cycles are kept)."""
    cycle = parse_cycle(context.partition_key)
    with connect(sop.warehouse_path, read_only=True) as con:
        # Ordered: float sums (channel shares, event uplift) must not depend on how DuckDB scanned the table.
        history = fetch_frame(con, "SELECT * FROM marts.fct_demand_monthly ORDER BY sku, channel, month")
        products = fetch_frame(con, "SELECT * FROM marts.dim_products ORDER BY sku")
        events = fetch_frame(con, "SELECT * FROM staging.stg_raw__events ORDER BY event_id")
        overrides = fetch_frame(con, "SELECT * FROM staging.stg_raw__overrides ORDER BY ALL")
    first = history["month"].min() if not history.is_empty() else cycle
    months = [add_months(first, i) for i in range(months_between(first, cycle) + sop.horizon)]
    uplift = cycle_event_uplift(history, events, products, cycle, months)
    folds = FoldCache(sop.fold_cache_path)
    result = build_cycle_forecast(
        history, products, cycle, sop.horizon, sop.backtest_origins, uplift,
        consensus_step=lambda scored, chosen, products, uplift: consensus_backtest(
            scored, chosen, products, uplift, overrides),
        fold_cache=folds,
        uplift_at=lambda origin: origin_event_uplift(history, events, products, origin, sop.horizon),
    )
    context.log.info(f"backtest: {folds.hits} of {folds.hits + folds.misses} origins reused from an earlier run, "
                     f"{folds.misses} fitted")
    tables = {"forecast_backtest": result.backtest, "fva": result.fva, "forecast_champions": result.champions,
              "forecast": result.forecast}
    with connect(sop.warehouse_path) as con:
        write_cycle_tables(con, OUTPUT_SCHEMA, cycle, tables, between=lambda: fault_point("forecast"))
    for name, frame in tables.items():
        metadata = {"rows": frame.height}
        if name == "forecast_backtest":
            metadata |= {"origins_reused": folds.hits, "origins_fitted": folds.misses}
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    worse = a_segments_worse_than_seasonal_naive(result.fva)
    yield dg.AssetCheckResult(
        asset_key="fva", check_name=A_SEGMENT_CHECK.name, passed=worse.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        description=("every A segment's production step beats seasonal naive" if worse.is_empty() else
                     "worse than seasonal naive: " + ", ".join(worse["segment"].to_list())),
    )
