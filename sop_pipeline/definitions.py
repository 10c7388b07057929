"""The code location: every asset group of the monthly S&OP cycle, one step away."""

import dagster as dg

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.fact_base import dbt, fact_base
from sop_pipeline.defs.forecast import forecast_stage
from sop_pipeline.defs.ingest import raw_inputs
from sop_pipeline.defs.plan import demand_plan, plan_scorecard
from sop_pipeline.defs.publish import serving_copy
from sop_pipeline.defs.scenarios import orders_respect_moq_and_multiple, projection_balances, scenario_stage
from sop_pipeline.defs.schedules import monthly_cycle, monthly_cycle_schedule


def build_definitions(sop: SopConfig | None = None) -> dg.Definitions:
    """Definitions for one configuration (default: from the environment, see sop_pipeline.config)."""
    return dg.Definitions(
        assets=[raw_inputs, fact_base, forecast_stage, demand_plan, plan_scorecard, scenario_stage, serving_copy],
        asset_checks=[projection_balances, orders_respect_moq_and_multiple],
        jobs=[monthly_cycle],
        schedules=[monthly_cycle_schedule],
        resources={"sop": sop or SopConfig.from_env(), "dbt": dbt},
        # One writer at a time: steps run one after another in one process, so two steps never
        # hold the DuckDB warehouse for writing at once.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
