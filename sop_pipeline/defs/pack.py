"""The executive pack (SPEC §10): the KPI history, the plan bridge, and the page of the meeting.

One stage after everything the page shows, so that lineage runs from the landing files to the pack. In
forecast-only mode the scenario tables have no row for the cycle, and the page says why those sections are
absent.
"""

import dagster as dg
import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import parse_cycle
from sop_pipeline.defs.decisions import decisions
from sop_pipeline.defs.fact_base import fact_base
from sop_pipeline.defs.forecast import forecast_stage
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.defs.plan import demand_plan, plan_scorecard
from sop_pipeline.defs.replay import plan_replay
from sop_pipeline.defs.scenarios import scenario_stage
from sop_pipeline.pack.page import build_pack, summary_markdown, write_pack
from sop_pipeline.warehouse import connect, fetch_frame, write_cycle_tables

OUTPUT_SCHEMA = "sop"
PACK_ASSET = "executive_pack"
FACT_BASE = sorted(fact_base.keys)
EARLIER_STAGES = [key for stage in (forecast_stage, demand_plan, plan_scorecard, decisions, scenario_stage,
                                    plan_replay)
                  for key in sorted(stage.keys)]
UPSTREAM = [*FACT_BASE, *EARLIER_STAGES]


@dg.multi_asset(
    specs=[
        # The tables' descriptions and columns come from the output registry (sop_pipeline.outputs).
        dg.AssetSpec("kpi_history", kinds={"duckdb"}, group_name="pack", deps=UPSTREAM),
        dg.AssetSpec("plan_bridge", kinds={"duckdb"}, group_name="pack", deps=UPSTREAM),
        dg.AssetSpec(PACK_ASSET, kinds={"html"}, group_name="pack", deps=UPSTREAM, description=(
            "One static, self-contained HTML page per cycle for the executive S&OP meeting: the 60-second "
            "summary, decisions needed, the scenario grid, the plan bridge, the forecast scorecard, charts and "
            "KPI trends. Written to $SOP_HOME/pack/cycle=YYYY-MM-01/index.html and published beside the "
            "Parquet exports.")),
    ],
    partitions_def=cycles, backfill_policy=one_cycle_per_run, can_subset=False, name="pack_stage",
)
def pack_stage(context: dg.AssetExecutionContext, sop: SopConfig):
    """Write the cycle's KPI history and plan bridge, then render the pack from the tables."""
    from sop_pipeline.pack.bridge import compute_plan_bridge, record_plan_prices
    from sop_pipeline.pack.kpis import kpi_history, read_kpi_inputs

    cycle = parse_cycle(context.partition_key)
    with connect(sop.warehouse_path, read_only=True) as con:
        history = kpi_history(cycle, **read_kpi_inputs(con, cycle), excess_cover_months=sop.excess_cover_months)
        products = fetch_frame(con, "SELECT sku, unit_price, unit_cost FROM marts.dim_products ORDER BY sku")
        bridge = compute_plan_bridge(con, sop, cycle)
    with connect(sop.warehouse_path) as con:
        write_cycle_tables(con, OUTPUT_SCHEMA, cycle, {"kpi_history": history, "plan_bridge": bridge})
        record_plan_prices(con, cycle, products)
    yield dg.MaterializeResult(asset_key="kpi_history", metadata={
        "rows": history.height, "periods": history["period"].n_unique(), "kpis": history["kpi"].n_unique()})
    yield dg.MaterializeResult(asset_key="plan_bridge", metadata={
        "rows": bridge.height,
        "bridge": "first cycle: no bridge yet" if bridge.is_empty() else dg.MetadataValue.md(_bridge_markdown(bridge)),
    })
    with connect(sop.warehouse_path, read_only=True) as con:
        pack = build_pack(con, cycle, sop.currency, log=context.log.warning)
    path = write_pack(sop.home_path, pack)
    yield dg.MaterializeResult(asset_key=PACK_ASSET, metadata={
        "path": dg.MetadataValue.path(str(path)),
        "bytes": len(pack.html.encode()),
        "summary": dg.MetadataValue.md(summary_markdown(pack)),
        "sections_absent": dg.MetadataValue.md(
            "\n".join(f"- {key}: {why}" for key, why in pack.unavailable.items()) or "none"),
    })


def _bridge_markdown(bridge: pl.DataFrame) -> str:
    total = bridge.filter(pl.col("family").is_null())
    lines = ["| cause | demand units |", "|---|---|"]
    lines += [f"| {r['cause']} | {r['demand_units']:+,.0f} |" if not r["is_level"] else
              f"| **{r['cause']}** | **{r['demand_units']:,.0f}** |" for r in total.iter_rows(named=True)]
    return "\n".join(lines)
