"""Publishing: the read-only serving copy and the per-cycle Parquet exports BI tools read."""

import dagster as dg

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.fact_base import fact_base
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.publish import export_parquet, publish_serving_copy
from sop_pipeline.warehouse import connect

PUBLISHED_SCHEMAS = ("marts",)


def published_tables(sop: SopConfig) -> list[tuple[str, str]]:
    """Every table of the published schemas, in a stable order."""
    with connect(sop.warehouse_path, read_only=True) as con:
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN (SELECT unnest(?)) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
    return [(schema, table) for schema, table in rows]


@dg.asset(deps=[fact_base], partitions_def=cycles, backfill_policy=one_cycle_per_run, group_name="publish", kinds={"duckdb", "parquet"})
def serving_copy(context: dg.AssetExecutionContext, sop: SopConfig) -> dg.MaterializeResult:
    """One file per cycle run: the read-only DuckDB copy for BI and the cycle's Parquet exports."""
    tables = published_tables(sop)
    copied = publish_serving_copy(sop.warehouse_path, sop.serving_path, tables)
    export_dir = sop.exports_path / f"cycle={context.partition_key}"
    export_parquet(sop.warehouse_path, export_dir, tables)
    return dg.MaterializeResult(
        metadata={
            "serving_file": dg.MetadataValue.path(str(sop.serving_path)),
            "exports": dg.MetadataValue.path(str(export_dir)),
            "tables": dg.MetadataValue.md("\n".join(f"- {s}.{t}: {n} rows" for s, t, n in copied)),
        }
    )
