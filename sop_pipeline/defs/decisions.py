"""The decision log (SPEC §6): the meetings' decisions as of the cycle, published for follow-up."""

import dagster as dg

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import parse_cycle
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.plan.decisions import decision_log, follow_up
from sop_pipeline.warehouse import connect, fetch_frame, write_cycle_tables

OUTPUT_SCHEMA = "sop"


@dg.asset(
    partitions_def=cycles, backfill_policy=one_cycle_per_run, group_name="plan", kinds={"duckdb"},
    deps=["stg_raw__decisions"],  # description and columns from the output registry
)
def decisions(context: dg.AssetExecutionContext, sop: SopConfig):
    cycle = parse_cycle(context.partition_key)
    with connect(sop.warehouse_path, read_only=True) as con:
        log = decision_log(fetch_frame(con, "SELECT * FROM staging.stg_raw__decisions ORDER BY decision_id"), cycle)
    with connect(sop.warehouse_path) as con:
        write_cycle_tables(con, OUTPUT_SCHEMA, cycle, {"decisions": log})
    last = follow_up(log)
    return dg.MaterializeResult(metadata={
        "rows": log.height, "open": int((~log["status"].is_in(["done", "dropped"])).sum()),
        "overdue": int(log["is_overdue"].sum()),
        "last_cycle": f"{last['taken']} taken, {last['done']} done, {last['open']} open ({last['overdue']} overdue)",
    })
