"""The code location loads, holds the expected assets, job and schedule, and a tick targets the right cycle.

The asset-key snapshot makes any change of lineage visible in review.
"""

from datetime import datetime, timezone

import dagster as dg
import pytest

from sop_pipeline.definitions import defs

RAW = {f"raw/{name}" for name in
       ("products", "sales", "missing_months", "inventory", "purchase_orders", "suppliers", "events", "overrides",
        "budget", "approvals", "decisions", "payment_terms", "cash_position", "opex", "payables")}
MARTS = {"dim_calendar", "dim_products", "fct_demand_monthly", "fct_inventory_position", "fct_open_supply"}


def asset_keys() -> set[str]:
    return {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}


def test_every_input_mart_and_publish_asset_is_defined():
    keys = asset_keys()
    assert RAW <= keys
    assert MARTS <= keys
    assert {"serving_copy", "forecast_backtest", "fva", "forecast"} <= keys
    assert {k for k in keys if k.startswith("stg_raw__")} == {f"stg_raw__{k.split('/')[1]}" for k in RAW}


def test_marts_descend_from_the_raw_inputs_and_feed_the_serving_copy():
    graph = defs.resolve_asset_graph()
    upstream = graph.get_ancestor_asset_keys(dg.AssetKey("fct_demand_monthly"))
    assert {dg.AssetKey(["raw", "sales"]), dg.AssetKey(["raw", "products"])} <= upstream
    assert {dg.AssetKey(m) for m in MARTS} <= graph.get_ancestor_asset_keys(dg.AssetKey("serving_copy"))


def test_every_bi_table_of_the_monthly_plan_is_an_asset_feeding_the_serving_copy():
    graph = defs.resolve_asset_graph()
    tables = {"forecast", "forecast_backtest", "fva", "demand_plan", "plan_vs_actual", "inventory_projection",
              "planned_orders", "supply_gaps", "capacity_load", "cash_plan", "scenario_summary", "exceptions"}
    assert {dg.AssetKey(t) for t in tables} <= graph.get_ancestor_asset_keys(dg.AssetKey("serving_copy"))
    # The scenarios hang off the locked plan, never the other way round: re-running them leaves the lock alone.
    assert dg.AssetKey("demand_plan") in graph.get_ancestor_asset_keys(dg.AssetKey("scenario_summary"))
    assert dg.AssetKey("scenario_summary") not in graph.get_ancestor_asset_keys(dg.AssetKey("demand_plan"))


def test_dbt_tests_and_freshness_are_asset_checks():
    checks = defs.resolve_asset_graph().asset_check_keys
    checked = {c.asset_key for c in checks}
    assert {dg.AssetKey(m) for m in MARTS} <= checked  # every mart carries its dbt tests
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "sales"]), "sales_reach_the_previous_month") in checks
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "inventory"]), "stock_count_is_from_the_previous_month") in checks


def test_the_job_is_partitioned_by_cycle_from_a_fixed_start():
    from sop_pipeline.config import SopConfig

    job = defs.resolve_job_def("monthly_cycle")
    keys = job.partitions_def.get_partition_keys(current_time=datetime(2026, 11, 21, tzinfo=timezone.utc))
    assert keys[0] == SopConfig.model_fields["first_cycle"].default
    assert keys[-1] == "2026-11-01"  # the current month's cycle exists from its first day


def test_the_first_cycle_is_a_setting():
    import os
    import subprocess
    import sys

    probe = "from sop_pipeline.defs.partitions import cycles; print(cycles.get_first_partition_key())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SOP_FIRST_CYCLE": "1998-01-01"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1998-01-01"


def test_a_relock_is_run_config_of_the_demand_plan_that_the_job_accepts():
    from sop_pipeline.config import SopConfig
    from sop_pipeline.defs.plan import relock_run_config

    job = defs.resolve_job_def("monthly_cycle")
    assert dg.validate_run_config(job, relock_run_config())["ops"]["demand_plan"]["config"] == {"relock": True}
    assert "relock" not in SopConfig.model_fields  # an option of one run, not a setting that sticks
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, {"ops": {"demand_plan": {"config": {"relock": "yes please"}}}})


def test_the_scenarios_have_their_own_job_that_leaves_the_plan_alone():
    job = defs.resolve_job_def("scenarios")
    selected = {key.to_user_string() for key in job.asset_layer.executable_asset_keys} if hasattr(
        job.asset_layer, "executable_asset_keys") else {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {"scenario_summary", "cash_plan", "executive_pack", "serving_copy"} <= selected
    assert not selected & {"demand_plan", "forecast", "fct_demand_monthly"}


def test_schedule_runs_early_each_month_in_an_explicit_timezone():
    schedule = defs.resolve_schedule_def("monthly_cycle_schedule")
    assert schedule.cron_schedule == "0 6 2 * *"
    assert schedule.execution_timezone == "UTC"


@pytest.mark.parametrize("tick,cycle", [
    (datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc), "2026-12-01"),
    (datetime(2027, 1, 2, 6, 0, tzinfo=timezone.utc), "2027-01-01"),
])
def test_a_schedule_tick_runs_the_cycle_of_its_month(tick, cycle):
    schedule = defs.resolve_schedule_def("monthly_cycle_schedule")
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        result = schedule.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == [cycle]


def test_every_asset_has_a_description():
    graph = defs.resolve_asset_graph()
    missing = [k.to_user_string() for k in graph.get_all_asset_keys()
               if not graph.get(k).description and not k.to_user_string().startswith("raw/")]
    assert missing == []


def test_every_output_table_is_an_asset_described_by_the_output_registry():
    from sop_pipeline.outputs import OUTPUT_TABLES

    graph = defs.resolve_asset_graph()
    for table in OUTPUT_TABLES:
        spec = graph.get(dg.AssetKey(table.name))
        assert spec.description == table.grain, table.name
        assert [c.name for c in spec.metadata["dagster/column_schema"].columns] == list(table.columns), table.name


def test_the_pack_is_downstream_of_every_table_it_shows_and_published():
    graph = defs.resolve_asset_graph()
    upstream = graph.get_ancestor_asset_keys(dg.AssetKey("executive_pack"))
    shown = ("raw/sales", "fct_demand_monthly", "dim_products", "fva", "demand_plan", "plan_accuracy",
             "exceptions", "scenario_summary", "capacity_load", "cash_plan", "inventory_projection")
    assert {dg.AssetKey.from_user_string(k) for k in shown} <= upstream
    assert {dg.AssetKey("kpi_history"), dg.AssetKey("plan_bridge"), dg.AssetKey("executive_pack")} <= (
        graph.get_ancestor_asset_keys(dg.AssetKey("serving_copy")))
