"""Consensus and lock (SPEC §6): the demand plan of the cycle, and the scorecard of every earlier locked plan."""

from datetime import date

import dagster as dg
import polars as pl
from pydantic import Field

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import add_months, parse_cycle
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.faults import fault_point
from sop_pipeline.plan.accuracy import override_value_added, plan_accuracy, plan_vs_actual
from sop_pipeline.forecast.events import cycle_event_uplift
from sop_pipeline.plan.consensus import build_demand_plan, unapplied_overrides
from sop_pipeline.plan.lock import (
    APPROVED,
    PlanStateError,
    apply_approvals,
    check_approval,
    current_plan,
    earlier_plans,
    landed_approvals,
    plan_versions,
    locked_overrides_fingerprint,
    overrides_fingerprint,
    record_lock_inputs,
    save_draft,
)
from sop_pipeline.scenarios import ScenarioError, load_scenarios
from sop_pipeline.warehouse import connect, fetch_frame, table_columns, write_cycle_tables

OUTPUT_SCHEMA = "sop"
FROZEN_CHECK = dg.AssetCheckSpec(
    "no_unflagged_frozen_fence_changes", asset="demand_plan",
    description="Warns when the plan changes a frozen month of the previous cycle's plan (SPEC §6: changes "
    "inside the frozen fence are flagged).",
)
OVERRIDES_CHECK = dg.AssetCheckSpec(
    "every_override_applied", asset="demand_plan",
    description="Warns when an override of the cycle matched no SKU and month of the plan.",
)

LOCK_CHECK = dg.AssetCheckSpec(
    "overrides_match_the_locked_plan", asset="demand_plan",
    description="Warns when the cycle's overrides on disk differ from those its approved plan was built with: an "
    "approved plan is never overwritten, so an edited override changes nothing until `sop run --relock` rebuilds "
    "the draft and `sop approve` approves it.",
)


def read_plan_inputs(sop: SopConfig, cycle: date) -> dict[str, pl.DataFrame]:
    """What the consensus reads: the cycle's production forecast, the fact base (with the calendar, whose
    time fences the plan takes as they are), events and overrides."""
    with connect(sop.warehouse_path, read_only=True) as con:
        frames = {
            "forecast": fetch_frame(con, "SELECT sku, month, step, method, p10, p50, p90 FROM sop.forecast "
                                         "WHERE cycle = ? ORDER BY sku, month", [cycle]),
            "products": fetch_frame(con, "SELECT sku, family FROM marts.dim_products ORDER BY sku"),
            "calendar": fetch_frame(con, "SELECT month, time_fence FROM marts.dim_calendar ORDER BY month"),
            "history": fetch_frame(con, "SELECT sku, channel, month, units FROM marts.fct_demand_monthly "
                                        "ORDER BY sku, channel, month"),
            "events": fetch_frame(con, "SELECT * FROM staging.stg_raw__events ORDER BY event_id"),
            "overrides": fetch_frame(con, "SELECT * FROM staging.stg_raw__overrides ORDER BY ALL"),
            "approvals": fetch_frame(con, "SELECT * FROM staging.stg_raw__approvals ORDER BY ALL")
            if table_columns(con, "staging", "stg_raw__approvals") else pl.DataFrame(),
            "previous": pl.DataFrame(schema={"sku": pl.String, "month": pl.Date, "consensus": pl.Float64}),
        }
        if table_columns(con, OUTPUT_SCHEMA, "demand_plan"):
            previous = current_plan(con, add_months(cycle, -1))
            if not previous.is_empty():
                frames["previous"] = previous.select("sku", "month", "consensus")
    return frames


class PlanRunConfig(dg.Config):
    """What one run does to the plan: an option of the run (the launchpad, `sop run --relock`), not a setting."""

    relock: bool = Field(
        default=False,
        description="On an approved cycle, rebuild the draft plan from the inputs on disk as a new version beside "
        "the approved one, which stays the plan of record until `sop approve`.",
    )


def relock_run_config() -> dict:
    """The run config of `sop run --relock`."""
    return {"ops": {demand_plan.op.name: {"config": {"relock": True}}}}


@dg.asset(
    partitions_def=cycles, backfill_policy=one_cycle_per_run, group_name="plan", kinds={"duckdb"},
    deps=["forecast", "dim_products", "dim_calendar", "fct_demand_monthly", "stg_raw__events", "stg_raw__overrides",
          "stg_raw__approvals"],
    check_specs=[FROZEN_CHECK, OVERRIDES_CHECK, LOCK_CHECK],
)
def demand_plan(context: dg.AssetExecutionContext, sop: SopConfig, config: PlanRunConfig):
    """One row per cycle, version, SKU and horizon month: the consensus plan (forecast + events + overrides), a
    draft until the executive meeting approves a version (`sop approve` or the landing `approvals/`)."""
    cycle = parse_cycle(context.partition_key)
    inputs = read_plan_inputs(sop, cycle)
    if inputs["forecast"].is_empty():
        raise dg.Failure(description=f"no forecast for cycle {cycle}: materialise the forecast stage first")
    months = [add_months(cycle, i) for i in range(sop.horizon)]
    uplift = cycle_event_uplift(inputs["history"], inputs["events"], inputs["products"], cycle, months)
    plan = build_demand_plan(
        inputs["forecast"], cycle, inputs["products"], uplift, inputs["overrides"], inputs["calendar"],
        previous_plan=inputs["previous"],
    )
    unapplied = unapplied_overrides(inputs["forecast"], cycle, inputs["products"], inputs["overrides"])
    landed = overrides_fingerprint(inputs["overrides"], cycle)
    # The cycle's own approvals, and those of earlier cycles whose meeting came after their run: the next
    # scheduled run applies them before it scores those plans. Every one is checked before anything is written.
    rows_landed = inputs["approvals"]
    due = sorted(rows_landed.filter(pl.col("cycle") <= cycle)["cycle"].unique().to_list()) if rows_landed.height else []
    approvals = {when: landed_approvals(rows_landed, when) for when in due}
    scenarios, when = (), cycle
    if approvals:
        try:
            scenarios = load_scenarios(sop.scenarios_path)
            for when, rows in approvals.items():
                for approval in rows:
                    check_approval(approval, scenarios)
        except (ScenarioError, PlanStateError) as err:
            raise dg.Failure(description=f"approvals/ for cycle {when:%Y-%m}: {err}") from None
    with connect(sop.warehouse_path) as con:
        outcome = save_draft(con, cycle, plan, relock=config.relock)
        fault_point("after_lock")
        if outcome.written_version is not None:
            record_lock_inputs(con, cycle, outcome.written_version, landed)
        approved_now = apply_approvals(con, cycle, approvals.get(cycle, []), scenarios)
        for when, rows in approvals.items():  # an earlier cycle that never ran has no draft to approve
            if when < cycle and plan_versions(con, when):
                for version in apply_approvals(con, when, rows, scenarios):
                    context.log.info(f"cycle {when:%Y-%m} approved from approvals/: version {version}")
        locked = current_plan(con, cycle)
        version = int(locked["version"].max())
        used = locked_overrides_fingerprint(con, cycle, version)
    state = locked["plan_state"].max() or APPROVED
    if approved_now:
        context.log.info(f"cycle {cycle} approved from approvals/: version(s) {approved_now}")
    elif not outcome.written:
        context.log.info(f"cycle {cycle} keeps its {state} plan (version {version})"
                         + ("; `sop run --relock` rebuilds a draft beside it" if state == APPROVED else ""))
    frozen = locked.filter(pl.col("is_frozen_change"))
    yield dg.MaterializeResult(metadata={
        "version": version,
        "plan_state": state,
        "written_now": outcome.written or bool(approved_now),
        "versions": outcome.versions,
        "rows": locked.height,
        "consensus_units": float(locked["consensus"].sum()),
        "forecast_units": float(locked["forecast"].sum()),
        "overridden_rows": int(locked["override_type"].is_not_null().sum()),
        "frozen_fence_changes": frozen.height,
    })
    yield dg.AssetCheckResult(
        check_name=FROZEN_CHECK.name, passed=frozen.is_empty(), severity=dg.AssetCheckSeverity.WARN,
        description="no frozen month changed" if frozen.is_empty() else
        f"{frozen.height} frozen SKU-months changed beyond tolerance vs the previous plan (is_frozen_change)",
    )
    yield dg.AssetCheckResult(
        check_name=OVERRIDES_CHECK.name, passed=unapplied.is_empty(), severity=dg.AssetCheckSeverity.WARN,
        description="every override matched the plan" if unapplied.is_empty() else
        f"{unapplied.height} overrides matched nothing: "
        + "; ".join(f"{r['sku'] or r['family']} {r['month']}: {r['unapplied_because']}"
                    for r in unapplied.head(10).iter_rows(named=True)),
    )
    differs = used is not None and used != landed
    yield dg.AssetCheckResult(
        check_name=LOCK_CHECK.name, passed=not differs, severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"the overrides in overrides/ for cycle {cycle:%Y-%m} differ from those approved plan version "
            f"{version} was built with; the approved plan is unchanged. If the meeting agreed them, run "
            f"`sop run --cycle {cycle:%Y-%m} --relock` to rebuild the draft, then `sop approve --cycle "
            f"{cycle:%Y-%m} --scenario NAME --by NAME` to approve it"
        ) if differs else f"the {state} plan was built from the overrides on disk"
        + ("" if used is not None else " (not recorded for this version: locked by an earlier release)"),
    )


@dg.multi_asset(
    specs=[
        # Descriptions and columns from the output registry (sop_pipeline.outputs).
        dg.AssetSpec("plan_vs_actual", group_name="plan", kinds={"duckdb"}, deps=["demand_plan", "fct_demand_monthly"]),
        dg.AssetSpec("plan_accuracy", group_name="plan", kinds={"duckdb"}, deps=["plan_vs_actual"]),
    ],
    partitions_def=cycles, backfill_policy=one_cycle_per_run, can_subset=False, name="plan_scorecard",
)
def plan_scorecard(context: dg.AssetExecutionContext, sop: SopConfig):
    """Every plan of record before this cycle (approved, else the last draft), scored stage by stage against the
    actuals known at this cycle."""
    cycle = parse_cycle(context.partition_key)
    with connect(sop.warehouse_path, read_only=True) as con:
        plans = earlier_plans(con, cycle)
        # In a fixed order: the scores below sum floats, and a sum's last bit depends on the order it adds in.
        history = fetch_frame(con, "SELECT sku, channel, month, units, is_stockout FROM marts.fct_demand_monthly "
                                   "ORDER BY sku, channel, month")
        products = fetch_frame(con, "SELECT sku, family, segment FROM marts.dim_products ORDER BY sku")
    pva = plan_vs_actual(plans, history, cycle, products)
    accuracy = plan_accuracy(pva)
    with connect(sop.warehouse_path) as con:
        write_cycle_tables(con, OUTPUT_SCHEMA, cycle, {"plan_vs_actual": pva, "plan_accuracy": accuracy})
    touched = override_value_added(pva)
    metadata = {"rows": pva.height, "plan_cycles_scored": pva["plan_cycle"].n_unique()}
    if touched.height and touched["n_touched"].item():
        metadata["consensus_fva_on_touched_rows"] = float(touched["fva_consensus_vs_forecast"].item() or 0.0)
    yield dg.MaterializeResult(asset_key="plan_vs_actual", metadata=metadata)
    yield dg.MaterializeResult(asset_key="plan_accuracy", metadata={"rows": accuracy.height})
