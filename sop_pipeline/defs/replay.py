"""Plan replay (SPEC §14): the cycle's last months planned again under every policy, as sop.replay and
sop.replay_summary. Wiring only: the replay is sop_pipeline.replay."""

import time

import dagster as dg
import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import parse_cycle
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.forecast.folds import FoldCache
from sop_pipeline.replay.engine import REPLAY_SCHEMA, run_replay
from sop_pipeline.replay.inputs import fold_forecaster, read_replay_inputs
from sop_pipeline.replay.policies import ReplayError
from sop_pipeline.replay.score import SUMMARY_SCHEMA
from sop_pipeline.scenarios import CENTRAL, load_scenarios
from sop_pipeline.warehouse import connect, write_cycle_tables

OUTPUT_SCHEMA = "sop"
GROUP = "replay"
# Descriptions and columns come from the output registry (sop_pipeline.outputs).
SPECS = [
    dg.AssetSpec("replay", group_name=GROUP, kinds={"duckdb", "lightgbm"},
                 deps=["fct_demand_monthly", "dim_products", "stg_raw__events", "stg_raw__overrides",
                       "stg_raw__suppliers"]),
    dg.AssetSpec("replay_summary", group_name=GROUP, kinds={"duckdb"}, deps=["replay"]),
]


@dg.multi_asset(specs=SPECS, partitions_def=cycles, backfill_policy=one_cycle_per_run, can_subset=False,
                name="plan_replay")
def plan_replay(context: dg.AssetExecutionContext, sop: SopConfig):
    """The cycle's last SOP_REPLAY_MONTHS months replayed under every policy, written to schema `sop` keyed by cycle."""
    cycle = parse_cycle(context.partition_key)
    central = next(s for s in load_scenarios(sop.scenarios_path) if s.name == CENTRAL)
    started = time.monotonic()
    cache = FoldCache(sop.fold_cache_path, consumer="replay")
    try:
        if sop.replay_months == 0:
            raise ReplayError("turned off (SOP_REPLAY_MONTHS=0)")
        with connect(sop.warehouse_path, read_only=True) as con:
            inputs = read_replay_inputs(con, cycle, sop.horizon, sop.backtest_origins, sop.service_levels,
                                        sop.abc_a_share, sop.abc_b_share, sop.excess_cover_months, central)
        result = run_replay(inputs, fold_forecaster(cache), months=sop.replay_months)
    except ReplayError as err:
        # Too little history to replay is no reason to fail the cycle: the tables keep no row for it.
        context.log.warning(f"no plan replay for cycle {cycle:%Y-%m}: {err}")
        replay, summary, verdict, notes, months = empty_replay(), empty_summary(), f"No replay: {err}", (), 0
    else:
        cache.keep_only_used()
        replay, summary, verdict, notes = result.replay, result.summary, result.verdict, result.notes
        months = len(result.months)
    for note in notes:
        context.log.info(note)  # in the asset's metadata too; none is a fault of the run
    context.log.info(verdict)
    tables = {"replay": replay, "replay_summary": summary.with_columns(pl.lit(verdict).alias("verdict"))}
    with connect(sop.warehouse_path) as con:
        write_cycle_tables(con, OUTPUT_SCHEMA, cycle, tables)
    seconds = round(time.monotonic() - started, 1)
    yield dg.MaterializeResult(asset_key="replay", metadata={
        "rows": replay.height, "months": months, "seconds": seconds, "folds_reused": cache.hits,
        "folds_fitted": cache.misses, "notes": "\n".join(notes) or "none",
    })
    yield dg.MaterializeResult(asset_key="replay_summary", metadata={"rows": summary.height, "verdict": verdict})


def empty_replay() -> pl.DataFrame:
    return pl.DataFrame(schema=REPLAY_SCHEMA)


def empty_summary() -> pl.DataFrame:
    return pl.DataFrame(schema=SUMMARY_SCHEMA)
