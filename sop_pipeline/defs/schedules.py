"""The monthly cycle job and its schedule."""

import dagster as dg

from sop_pipeline.defs.partitions import cycles

monthly_cycle = dg.define_asset_job(
    name="monthly_cycle",
    selection=dg.AssetSelection.all(),
    partitions_def=cycles,
    description="The whole S&OP cycle for one month: landing files to published outputs.",
)

# "Re-run the scenarios" in the UI: the supply review, cash plan and scenario grid from the cycle's plan of
# record, then the pack and the publication (what `sop run --scenarios-only` runs). The plan is not touched.
scenarios_job = dg.define_asset_job(
    name="scenarios",
    selection=dg.AssetSelection.groups("scenarios", "pack") | dg.AssetSelection.assets("serving_copy"),
    partitions_def=cycles,
    description="Re-run the scenarios of one cycle from its plan of record: supply review, cash plan, scenario "
    "grid, then the executive pack and the publication. The plan and the forecast are left as they are.",
)

# Early on the 2nd: month-end exports usually land on the 1st. The tick targets the cycle named
# after the current month (the partitions' end_offset makes it exist from the month's first day).
# The schedule's timezone is the partitions' own, set explicitly in partitions.py.
monthly_cycle_schedule = dg.build_schedule_from_partitioned_job(
    monthly_cycle,
    name="monthly_cycle_schedule",
    description="Runs the new cycle at 06:00 UTC on the 2nd of every month.",
    day_of_month=2,
    hour_of_day=6,
    minute_of_hour=0,
)


@dg.sensor(
    name="fail_runs_of_dead_processes",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed every started run whose process died (killed, out of memory), so that the "
    "one-run-at-a-time queue never waits behind it for ever. `sop run` does the same when it starts.",
)
def fail_runs_of_dead_processes(context: dg.SensorEvaluationContext):
    from sop_pipeline.runs import fail_dead_runs

    failed = fail_dead_runs(context.instance)
    return dg.SkipReason(f"marked {len(failed)} run(s) of dead processes failed" if failed else "no dead runs")
