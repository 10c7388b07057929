"""The code location: every asset group of the monthly S&OP cycle, one step away."""

import dagster as dg

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.decisions import decisions
from sop_pipeline.defs.fact_base import dbt, fact_base
from sop_pipeline.defs.forecast import forecast_stage
from sop_pipeline.defs.ingest import raw_inputs
from sop_pipeline.defs.pack import pack_stage
from sop_pipeline.defs.plan import demand_plan, plan_scorecard
from sop_pipeline.defs.publish import serving_copy
from sop_pipeline.defs.replay import plan_replay
from sop_pipeline.defs.scenarios import scenario_stage
from sop_pipeline.defs.schedules import (
    fail_runs_of_dead_processes,
    monthly_cycle,
    monthly_cycle_schedule,
    scenarios_job,
)
from sop_pipeline.table_docs import OUTPUT_SCHEMA, output_docs


def with_output_docs(spec: dg.AssetSpec) -> dg.AssetSpec:
    """An output table's asset takes its description (the table's grain) and its columns with their meaning
    from the output registry, the one place they are written (the dbt models get theirs from their .yml
    files through dagster-dbt)."""
    documented = output_docs().get((OUTPUT_SCHEMA, spec.key.to_user_string()))
    if documented is None:
        return spec
    grain, columns = documented
    schema = dg.TableSchema([dg.TableColumn(name, type="?", description=text) for name, text in columns.items()])
    return spec.replace_attributes(description=grain, metadata={**spec.metadata, "dagster/column_schema": schema})


def build_definitions(sop: SopConfig | None = None) -> dg.Definitions:
    """Definitions for one configuration (default: from the environment, see sop_pipeline.config)."""
    return dg.Definitions(
        assets=[
            asset.map_asset_specs(with_output_docs)
            for asset in (raw_inputs, fact_base, forecast_stage, demand_plan, plan_scorecard, decisions, scenario_stage,
                          pack_stage, plan_replay, serving_copy)
        ],
        jobs=[monthly_cycle, scenarios_job],
        schedules=[monthly_cycle_schedule],
        sensors=[fail_runs_of_dead_processes],
        resources={"sop": sop or SopConfig.from_env(), "dbt": dbt},
        # One writer at a time: steps run one after another in one process, so two steps never
        # hold the DuckDB warehouse for writing at once.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
