"""Plan states (SPEC §6): a cycle's run writes a draft, the executive meeting approves one, and an approved plan is
never overwritten.

`sop.demand_plan` holds every version of every cycle's plan; a run writes a new draft version only when the
plan changed, and `is_current` marks the plan of record (the newest approved version, else the newest draft).
Design notes: docs/plan.md, *Plan states and versions*.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from sop_pipeline.scenarios import Scenario, scenario_demand
from sop_pipeline.warehouse import fetch_frame, insert_rows, qualified, table_columns

SCHEMA, TABLE = "sop", "demand_plan"
DRAFT, APPROVED = "draft", "approved"
APPROVAL_COLUMNS = {
    "plan_state": pl.String, "approved_by": pl.String, "approved_on": pl.Date, "approved_scenario": pl.String,
    "approval_note": pl.String, "scenario_assumptions": pl.String, "executive_demand": pl.Float64,
}
# The bookkeeping columns of a version, not part of the plan a run builds.
_VERSION_COLUMNS = ("cycle", "version", "is_current", *APPROVAL_COLUMNS)


class PlanStateError(ValueError):
    """An approval that cannot be made (no plan, unknown scenario, no approver); nothing was written."""


@dataclass(frozen=True)
class LockOutcome:
    version: int  # the plan of record after the call
    written: bool  # False when nothing new was written
    versions: int  # how many versions the cycle now has
    state: str = DRAFT  # the plan of record's state
    written_version: int | None = None  # the version this call wrote, if any


@dataclass(frozen=True)
class Approval:
    scenario: str
    approved_by: str
    approved_on: date
    note: str | None = None


def _state_expr(columns: list[str]) -> str:
    """SQL for a row's state: a plan locked before states existed counts as approved (fixed identifiers only)."""
    return f"coalesce(plan_state, '{APPROVED}')" if "plan_state" in columns else f"'{APPROVED}'"


def plan_history(con: duckdb.DuckDBPyConnection, cycle: date) -> pl.DataFrame:
    """One row per version of the cycle's plan, oldest first: `version, is_current, plan_state, approved_by,
    approved_on, approved_scenario, approval_note` (the approval columns null where a release had none)."""
    columns = table_columns(con, SCHEMA, TABLE)
    schema = {"version": pl.Int32, "is_current": pl.Boolean, "plan_state": pl.String, "approved_by": pl.String,
              "approved_on": pl.Date, "approved_scenario": pl.String, "approval_note": pl.String}
    if not columns:
        return pl.DataFrame(schema=schema)
    approval = ("approved_by", "approved_on", "approved_scenario", "approval_note")
    picked = ", ".join(name if name in columns else f"NULL AS {name}" for name in approval)
    frame = fetch_frame(
        con,
        f"SELECT version, bool_or(is_current) AS is_current, any_value({_state_expr(columns)}) AS plan_state, "
        f"{', '.join(f'any_value({name}) AS {name}' for name in approval)} "
        f"FROM (SELECT version, is_current, {_state_expr(columns)} AS plan_state, {picked} "
        f"FROM {qualified(SCHEMA, TABLE)} WHERE cycle = ?) GROUP BY version ORDER BY version",
        [cycle],
    )
    return frame.cast(schema) if frame.height else pl.DataFrame(schema=schema)


def plan_versions(con: duckdb.DuckDBPyConnection, cycle: date) -> list[int]:
    """The versions written for a cycle, oldest first (empty when it never ran)."""
    return plan_history(con, cycle)["version"].to_list()


def _version_rows(con: duckdb.DuckDBPyConnection, cycle: date, version: int) -> pl.DataFrame:
    return fetch_frame(con, f"SELECT * FROM {qualified(SCHEMA, TABLE)} WHERE cycle = ? AND version = ? "
                            "ORDER BY sku, month", [cycle, version])


def _same_plan(stored: pl.DataFrame, plan: pl.DataFrame) -> bool:
    if stored.height != plan.height or any(c not in stored.columns for c in plan.columns):
        return False
    keys = [c for c in ("sku", "month") if c in plan.columns]
    left = stored.select(plan.columns).cast(dict(plan.schema)).sort(keys)
    return left.equals(plan.sort(keys))


def _write_version(con: duckdb.DuckDBPyConnection, cycle: date, version: int, rows: pl.DataFrame, current: bool,
                   state: dict) -> None:
    """Insert one version; when it becomes the plan of record, the others stop being it, in one transaction."""
    values = {name: state.get(name) for name in APPROVAL_COLUMNS}
    frame = rows.drop([c for c in _VERSION_COLUMNS if c in rows.columns]).select(
        pl.lit(cycle, pl.Date).alias("cycle"), pl.lit(version, pl.Int32).alias("version"),
        pl.lit(current).alias("is_current"), pl.all(),
    ).with_columns(
        (pl.lit(values[name], dtype) if not isinstance(values[name], pl.Series) else values[name].cast(dtype))
        .alias(name) for name, dtype in APPROVAL_COLUMNS.items()
    )
    before = ("UPDATE {table} SET is_current = false WHERE cycle = ?", [cycle]) if current else None
    insert_rows(con, SCHEMA, TABLE, frame, before=before)


_SQL_TYPES = {pl.String: "VARCHAR", pl.Date: "DATE", pl.Float64: "DOUBLE"}


def add_state_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Give a table written before plan states existed the state columns, null on its rows (read as approved):
    every reader can then name them. No row is rewritten."""
    columns = table_columns(con, SCHEMA, TABLE)
    for name, dtype in APPROVAL_COLUMNS.items():
        if columns and name not in columns:  # names and types from APPROVAL_COLUMNS only
            con.execute(f"ALTER TABLE {qualified(SCHEMA, TABLE)} ADD COLUMN {name} {_SQL_TYPES[dtype]}")


def save_draft(con: duckdb.DuckDBPyConnection, cycle: date, plan: pl.DataFrame, relock: bool = False) -> LockOutcome:
    """Record the plan a run built as the cycle's draft (see the module docstring): a new version when it differs
    from the newest one, nothing otherwise; on an approved cycle only with `relock`, and never as current."""
    add_state_columns(con)
    history = plan_history(con, cycle)
    approved = history.filter(pl.col("plan_state") == APPROVED)
    current = history.filter(pl.col("is_current"))
    record = int(current["version"].max()) if current.height else None
    record_state = current["plan_state"].max() if current.height else DRAFT
    if history.height and approved.height and not relock:
        return LockOutcome(record, False, history.height, APPROVED)
    newest = int(history["version"].max()) if history.height else 0
    if newest and _same_plan(_version_rows(con, cycle, newest), plan):
        return LockOutcome(record if record is not None else newest, False, history.height, record_state or DRAFT)
    version = newest + 1
    becomes_current = approved.is_empty()
    _write_version(con, cycle, version, plan, current=becomes_current, state={"plan_state": DRAFT})
    if becomes_current:
        return LockOutcome(version, True, history.height + 1, DRAFT, version)
    return LockOutcome(record, True, history.height + 1, APPROVED, version)


def scenario_assumptions(scenario: Scenario) -> str:
    """A scenario's definition as JSON text, keys sorted: what the executive meeting approved, kept with the plan."""
    fields = {name: getattr(scenario, name) for name in scenario.__dataclass_fields__}
    for mapping in ("supplier_delays", "collection_days"):  # read-only mappings, as plain sorted objects
        fields[mapping] = dict(sorted(dict(getattr(scenario, mapping)).items()))
    return json.dumps(fields, sort_keys=True)


def check_approval(approval: Approval, scenarios: Sequence[Scenario]) -> Scenario:
    """The approved scenario, or a `PlanStateError` naming what is wrong with the approval."""
    if not (approval.approved_by or "").strip():
        raise PlanStateError("an approval needs the name of who approved it (approved_by is empty)")
    names = [s.name for s in scenarios]
    if approval.scenario not in names:
        raise PlanStateError(f"unknown scenario {approval.scenario!r}: the scenario file defines "
                             f"{', '.join(names)}")
    return next(s for s in scenarios if s.name == approval.scenario)


def approve_plan(con: duckdb.DuckDBPyConnection, cycle: date, approval: Approval,
                 scenarios: Sequence[Scenario]) -> LockOutcome:
    """Approve the cycle's newest draft (the newest version when it has no draft, e.g. a plan locked before
    states existed) under `approval.scenario`: a new approved version, the plan of record from now on.

    Checked before anything is written: an unknown scenario, an empty approver or a cycle without a plan raise
    `PlanStateError` and leave the table as it was."""
    scenario = check_approval(approval, scenarios)
    history = plan_history(con, cycle)
    if history.is_empty():
        raise PlanStateError(f"cycle {cycle:%Y-%m} has no plan to approve: run the cycle first "
                             f"(sop run --cycle {cycle:%Y-%m})")
    drafts = history.filter(pl.col("plan_state") == DRAFT)
    source = int((drafts if drafts.height else history)["version"].max())
    rows = _version_rows(con, cycle, source)
    demand = scenario_demand(rows.select("sku", "month", "p10", "consensus", "p90"), scenario)
    rows = rows.join(demand.rename({"demand": "_executive"}), on=["sku", "month"], how="left").sort("sku", "month")
    version = int(history["version"].max()) + 1
    _write_version(con, cycle, version, rows.drop("_executive"), current=True, state={
        "plan_state": APPROVED, "approved_by": approval.approved_by.strip(), "approved_on": approval.approved_on,
        "approved_scenario": scenario.name, "approval_note": approval.note or None,
        "scenario_assumptions": scenario_assumptions(scenario), "executive_demand": rows["_executive"],
    })
    fingerprint = locked_overrides_fingerprint(con, cycle, source)
    if fingerprint is not None:
        record_lock_inputs(con, cycle, version, fingerprint)
    return LockOutcome(version, True, history.height + 1, APPROVED, version)


def landed_approvals(approvals: pl.DataFrame, cycle: date) -> list[Approval]:
    """The cycle's rows of the landing `approvals/` data set, oldest first."""
    rows = approvals.filter(pl.col("cycle") == cycle).sort("approved_on", "approved_by", "scenario", nulls_last=True)
    return [Approval(r["scenario"], r["approved_by"], r["approved_on"], r.get("note"))
            for r in rows.iter_rows(named=True)]


def apply_approvals(con: duckdb.DuckDBPyConnection, cycle: date, approvals: list[Approval],
                    scenarios: Sequence[Scenario]) -> list[int]:
    """Approve once per approval not yet recorded (the same scenario, approver, date and note), oldest first;
    the versions written. Every approval is checked before the first is written."""
    for approval in approvals:
        check_approval(approval, scenarios)
    recorded = {(r["approved_scenario"], r["approved_by"], r["approved_on"], r["approval_note"])
                for r in plan_history(con, cycle).filter(pl.col("approved_by").is_not_null()).iter_rows(named=True)}
    written = []
    for approval in approvals:
        key = (approval.scenario, approval.approved_by.strip(), approval.approved_on, approval.note or None)
        if key not in recorded:
            written.append(approve_plan(con, cycle, approval, scenarios).version)
            recorded.add(key)
    return written


def current_plan(con: duckdb.DuckDBPyConnection, cycle: date) -> pl.DataFrame:
    """The plan of record of one cycle (the newest approved version, else the newest draft), by SKU and month."""
    return fetch_frame(
        con, f"SELECT * FROM {qualified(SCHEMA, TABLE)} WHERE cycle = ? AND is_current ORDER BY sku, month", [cycle]
    )


EARLIER_PLANS_SCHEMA = {
    "plan_cycle": pl.Date, "sku": pl.String, "month": pl.Date, "forecast": pl.Float64, "consensus": pl.Float64,
    "scored_version": pl.Int32, "plan_state": pl.String, "demand_review": pl.Float64, "executive": pl.Float64,
}


def earlier_plans(con: duckdb.DuckDBPyConnection, cycle: date) -> pl.DataFrame:
    """The plan of record of every cycle before `cycle`, one row per plan cycle, SKU and month,
    `EARLIER_PLANS_SCHEMA`, with what each meeting said:

    - `scored_version`, `plan_state`: the version read (the newest approved one, else the newest draft).
    - `demand_review`: the consensus of the newest draft up to that version (the demand review's plan, after
      its overrides); a plan locked before states existed has no draft, its own consensus is that plan.
    - `executive`: the approved scenario's demand (`executive_demand`); the consensus for a plan approved
      before states existed; null while the plan is a draft (no executive meeting has approved it).
    """
    columns = table_columns(con, SCHEMA, TABLE)
    if not columns:
        return pl.DataFrame(schema=EARLIER_PLANS_SCHEMA)
    state = _state_expr(columns)
    executive = "coalesce(executive_demand, consensus)" if "executive_demand" in columns else "consensus"
    table = qualified(SCHEMA, TABLE)
    frame = fetch_frame(
        con,
        f"WITH record AS (SELECT cycle, sku, month, version, forecast, consensus, {state} AS plan_state, "
        f"CASE WHEN {state} = '{APPROVED}' THEN {executive} END AS executive FROM {table} "
        "WHERE cycle < ? AND is_current), "
        f"draft AS (SELECT t.cycle, max(t.version) AS draft_version FROM {table} t "
        "JOIN (SELECT DISTINCT cycle, version FROM record) r ON t.cycle = r.cycle AND t.version <= r.version "
        f"WHERE {state.replace('plan_state', 't.plan_state')} = '{DRAFT}' GROUP BY t.cycle) "
        "SELECT r.cycle AS plan_cycle, r.sku, r.month, r.forecast, r.consensus, r.version AS scored_version, "
        "r.plan_state, coalesce(d.consensus, r.consensus) AS demand_review, r.executive FROM record r "
        f"LEFT JOIN draft USING (cycle) LEFT JOIN {table} d ON d.cycle = r.cycle AND d.version = draft.draft_version "
        "AND d.sku = r.sku AND d.month = r.month ORDER BY r.cycle, r.sku, r.month",
        [cycle],
    )
    return frame.cast(EARLIER_PLANS_SCHEMA) if frame.height else pl.DataFrame(schema=EARLIER_PLANS_SCHEMA)


# What each locked version was built from, beside the plan (not published: it is bookkeeping, not a plan).
INPUTS_SCHEMA, INPUTS_TABLE = "meta", "plan_lock_inputs"


def overrides_fingerprint(overrides: pl.DataFrame, cycle: date) -> str:
    """A digest of the cycle's overrides as landed (order of rows and columns ignored)."""
    rows = overrides.filter(pl.col("cycle") == cycle)
    rows = rows.select(sorted(rows.columns)).sort(pl.all(), nulls_last=True)
    return hashlib.sha256(rows.write_csv().encode()).hexdigest()


def record_lock_inputs(con: duckdb.DuckDBPyConnection, cycle: date, version: int, fingerprint: str) -> None:
    """Remember the overrides a newly written version was built from."""
    frame = pl.DataFrame({"cycle": [cycle], "version": [version], "overrides_fingerprint": [fingerprint]},
                         schema={"cycle": pl.Date, "version": pl.Int32, "overrides_fingerprint": pl.String})
    insert_rows(con, INPUTS_SCHEMA, INPUTS_TABLE, frame,
                before=("DELETE FROM {table} WHERE cycle = ? AND version = ?", [cycle, version]))


def locked_overrides_fingerprint(con: duckdb.DuckDBPyConnection, cycle: date, version: int) -> str | None:
    """The overrides digest a version was built from; None for versions written before it was kept."""
    if not table_columns(con, INPUTS_SCHEMA, INPUTS_TABLE):
        return None
    rows = con.execute(
        f"SELECT overrides_fingerprint FROM {qualified(INPUTS_SCHEMA, INPUTS_TABLE)} WHERE cycle = ? AND version = ?",
        [cycle, version],
    ).fetchall()
    return rows[0][0] if rows else None
