"""Publishing: the read-only serving copy and the per-cycle Parquet exports BI tools read."""

import dagster as dg

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import parse_cycle
from sop_pipeline.defs.decisions import decisions
from sop_pipeline.defs.fact_base import fact_base
from sop_pipeline.defs.forecast import forecast_stage
from sop_pipeline.defs.pack import PACK_ASSET, pack_stage
from sop_pipeline.defs.plan import demand_plan, plan_scorecard
from sop_pipeline.defs.replay import plan_replay
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.defs.scenarios import scenario_stage
from sop_pipeline.dbt_paths import DBT_PROJECT_DIR
from sop_pipeline.pack.page import pack_path
from sop_pipeline.publish import cycles_in, publish, published_cycle, recover
from sop_pipeline.table_docs import published_docs
from sop_pipeline.warehouse import connect

# marts: the fact base of the cycle just built; sop: outputs keyed by cycle, earlier cycles kept.
PUBLISHED_SCHEMAS = ("marts", "sop")
CYCLE_HISTORY_SCHEMAS = ("sop",)


def published_tables(sop: SopConfig) -> list[tuple[str, str]]:
    """Every table of the published schemas, in a stable order."""
    with connect(sop.warehouse_path, read_only=True) as con:
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN (SELECT unnest(?)) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
    return [(schema, table) for schema, table in rows]


# Everything the copy publishes: it runs after all of it.
FACT_BASE = sorted(fact_base.keys)
LATER_STAGES = [key for stage in (forecast_stage, demand_plan, plan_scorecard, decisions, scenario_stage, pack_stage,
                                   plan_replay)
                for key in sorted(stage.keys)]


@dg.asset(
    deps=[*FACT_BASE, *LATER_STAGES],
    partitions_def=cycles, backfill_policy=one_cycle_per_run, group_name="publish", kinds={"duckdb", "parquet"},
    description="One file per cycle run: the read-only DuckDB copy for BI and the cycle's Parquet exports. The "
    "copy BI reads always holds the newest cycle published: backfilling an older cycle writes its Parquet "
    "exports but leaves the newer copy in place.",
)
def serving_copy(context: dg.AssetExecutionContext, sop: SopConfig) -> dg.MaterializeResult:
    """Export the cycle's tables to Parquet and, unless a newer cycle is published, swap in the BI copy."""
    cycle = context.partition_key
    tables = published_tables(sop)
    stray = {
        table: found
        for table, found in cycles_in(sop.warehouse_path, tables).items()
        # Outputs keyed by cycle keep every cycle, and may have no row for one (no earlier plan to score
        # yet); the marts are rebuilt per cycle and must hold this one only (or nothing: no open POs).
        if table.split(".")[0] not in CYCLE_HISTORY_SCHEMAS and set(found) - {cycle}
    }
    if stray:
        raise dg.Failure(
            description=f"the warehouse holds another cycle than {cycle} in {sorted(stray)} "
            f"(found {sorted({c for found in stray.values() for c in found})}): materialise the fact base "
            f"for {cycle} first; nothing was published."
        )
    for done in recover(sop.home_path):  # a publication a killed run left half-switched, before a new one
        context.log.warning(done)
    newest = published_cycle(sop.serving_path)
    serve = newest is None or cycle >= newest
    pack = pack_path(sop.home_path, parse_cycle(cycle))
    publication = publish(sop.warehouse_path, sop.home_path, tables, cycle, serve,
                          published_docs(DBT_PROJECT_DIR / "target" / "manifest.json"),
                          files={f"{PACK_ASSET}.html": pack} if pack.exists() else {})
    metadata = {"exports": dg.MetadataValue.path(str(publication.exports))}
    if serve:
        metadata["serving_file"] = dg.MetadataValue.path(str(sop.serving_path))
        metadata["tables"] = dg.MetadataValue.md(
            "\n".join(f"- {s}.{t}: {n} rows ({c} of the cycle)" for s, t, n, c in publication.tables))
    else:
        context.log.info(f"serving copy keeps the newer cycle {newest}; cycle {cycle} exported to Parquet only")
        metadata["serving_file"] = f"kept at the newer cycle {newest}"
    return dg.MaterializeResult(metadata=metadata)
