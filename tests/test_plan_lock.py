"""Plan states: a run writes a draft, an approval writes a new locked version, nothing approved is overwritten."""

import json
from datetime import date

import polars as pl
import pytest

from sop_pipeline.plan.lock import (
    Approval,
    PlanStateError,
    apply_approvals,
    approve_plan,
    current_plan,
    earlier_plans,
    landed_approvals,
    plan_history,
    plan_versions,
    save_draft,
)
from sop_pipeline.scenarios import Scenario
from sop_pipeline.warehouse import connect, fetch_frame

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
SCENARIOS = (Scenario("cautious", demand_quantile=0.3, demand_multiplier=0.5), Scenario("central"))
ON = date(2026, 11, 12)


def plan(consensus: float, cycle: date = NOV) -> pl.DataFrame:
    return pl.DataFrame({"sku": ["a", "b"], "month": [cycle, cycle], "forecast": [10.0, 20.0], "p10": [6.0, 10.0],
                         "consensus": [consensus, 20.0], "p90": [30.0, 40.0]})


def every_row(con) -> pl.DataFrame:
    return fetch_frame(con, "SELECT * FROM sop.demand_plan ORDER BY cycle, version, sku")


def test_a_run_writes_a_draft_and_a_rerun_rebuilds_it_only_when_it_changed(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        first = save_draft(con, NOV, plan(12.0))
        same = save_draft(con, NOV, plan(12.0))
        changed = save_draft(con, NOV, plan(15.0))
        history = plan_history(con, NOV)
        current = current_plan(con, NOV)
    assert (first.version, first.written, first.state) == (1, True, "draft")
    assert (same.version, same.written, same.versions) == (1, False, 1)
    assert (changed.version, changed.written, changed.versions) == (2, True, 2)
    assert history.select("version", "is_current", "plan_state").rows() == [(1, False, "draft"), (2, True, "draft")]
    assert current["consensus"].to_list() == [15.0, 20.0]


def test_approving_writes_a_new_current_version_with_the_scenario_and_keeps_the_draft(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        save_draft(con, NOV, plan(12.0))
        outcome = approve_plan(con, NOV, Approval("cautious", " anna ", ON, "ship it"), SCENARIOS)
        current = current_plan(con, NOV)
        draft = fetch_frame(con, "SELECT * FROM sop.demand_plan WHERE version = 1 ORDER BY sku")
    assert (outcome.version, outcome.state, outcome.versions) == (2, "approved", 2)
    assert current["version"].unique().to_list() == [2]
    row = current.row(0, named=True)
    assert (row["plan_state"], row["approved_by"], row["approved_on"], row["approved_scenario"],
            row["approval_note"]) == ("approved", "anna", ON, "cautious", "ship it")
    assert json.loads(row["scenario_assumptions"])["demand_quantile"] == 0.3
    # The cautious demand: quantile 0.3 is halfway from p10 to the consensus, times 0.5.
    assert current["executive_demand"].to_list() == [pytest.approx((6 + 12) / 2 * 0.5), pytest.approx(15 / 2)]
    assert current["consensus"].to_list() == [12.0, 20.0]  # the demand review's plan, unchanged
    assert draft["plan_state"].to_list() == ["draft", "draft"] and not draft["is_current"].any()


def test_a_rerun_of_an_approved_cycle_writes_nothing_and_a_relock_writes_a_draft_beside_it(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        save_draft(con, NOV, plan(12.0))
        approve_plan(con, NOV, Approval("central", "anna", ON), SCENARIOS)
        approved = every_row(con)
        rerun = save_draft(con, NOV, plan(99.0))
        after_rerun = every_row(con)
        relock = save_draft(con, NOV, plan(99.0), relock=True)
        current = current_plan(con, NOV)
        history = plan_history(con, NOV)
        kept = every_row(con).filter(pl.col("version") <= 2)
    assert (rerun.written, rerun.version, rerun.state) == (False, 2, "approved")
    assert after_rerun.equals(approved)
    assert (relock.written, relock.version, relock.written_version) == (True, 2, 3)
    assert current["version"].unique().to_list() == [2] and current["consensus"].to_list() == [12.0, 20.0]
    assert history.select("version", "is_current", "plan_state").rows() == [
        (1, False, "draft"), (2, True, "approved"), (3, False, "draft")]
    assert kept.equals(approved)


def test_approving_twice_writes_a_second_approved_version_and_keeps_the_first(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        save_draft(con, NOV, plan(12.0))
        approve_plan(con, NOV, Approval("central", "anna", ON), SCENARIOS)
        first = every_row(con)
        save_draft(con, NOV, plan(14.0), relock=True)  # the draft the meeting re-approves
        second = approve_plan(con, NOV, Approval("cautious", "ben", date(2026, 11, 13), "re-approved"), SCENARIOS)
        history = plan_history(con, NOV)
        current = current_plan(con, NOV)
        kept = every_row(con).filter(pl.col("version") <= 2)
    assert second.version == 4
    assert history.select("version", "is_current", "plan_state", "approved_by").rows() == [
        (1, False, "draft", None), (2, False, "approved", "anna"), (3, False, "draft", None),
        (4, True, "approved", "ben")]
    assert current["consensus"].to_list() == [14.0, 20.0]
    assert kept.drop("is_current").equals(first.drop("is_current"))


@pytest.mark.parametrize("approval, message", [
    (Approval("optimistic", "anna", ON), "unknown scenario 'optimistic'"),
    (Approval("central", "  ", ON), "approved_by is empty"),
])
def test_a_bad_approval_is_a_clear_error_and_changes_nothing(tmp_path, approval, message):
    with connect(tmp_path / "w.duckdb") as con:
        save_draft(con, NOV, plan(12.0))
        before = every_row(con)
        with pytest.raises(PlanStateError, match=message):
            approve_plan(con, NOV, approval, SCENARIOS)
        with pytest.raises(PlanStateError, match=message):  # a landed file: checked whole before any write
            apply_approvals(con, NOV, [Approval("central", "anna", ON), approval], SCENARIOS)
        after = every_row(con)
    assert after.equals(before)


def test_approving_a_cycle_that_never_ran_is_an_error(tmp_path):
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(PlanStateError, match="run the cycle first"):
        approve_plan(con, NOV, Approval("central", "anna", ON), SCENARIOS)


def test_a_landed_approval_is_applied_once_however_often_the_cycle_reruns(tmp_path):
    landed = pl.DataFrame({"cycle": [NOV, OCT], "scenario": ["central", "central"], "approved_by": ["anna", "x"],
                           "approved_on": [ON, ON], "note": [None, None]})
    approvals = landed_approvals(landed, NOV)
    with connect(tmp_path / "w.duckdb") as con:
        save_draft(con, NOV, plan(12.0))
        assert apply_approvals(con, NOV, approvals, SCENARIOS) == [2]
        assert apply_approvals(con, NOV, approvals, SCENARIOS) == []
        assert plan_versions(con, NOV) == [1, 2]


def test_a_plan_locked_before_states_existed_counts_as_approved_and_is_left_intact(tmp_path):
    """An upgraded home: `sop.demand_plan` as the earlier release wrote it (no state columns)."""
    legacy = plan(12.0, OCT).select(pl.lit(OCT).alias("cycle"), pl.lit(1, pl.Int32).alias("version"),
                                    pl.lit(True).alias("is_current"), pl.all())
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("CREATE SCHEMA sop")
        con.register("legacy", legacy.to_arrow())
        con.execute("CREATE TABLE sop.demand_plan AS SELECT * FROM legacy")
        assert plan_history(con, OCT)["plan_state"].to_list() == ["approved"]
        scored = earlier_plans(con, NOV)
        rerun = save_draft(con, OCT, plan(99.0, OCT))  # a rerun of the old cycle: the agreed plan stays
        save_draft(con, NOV, plan(5.0))  # the new release's first cycle widens the table
        reapproved = approve_plan(con, OCT, Approval("central", "anna", ON), SCENARIOS)
        original = fetch_frame(con, "SELECT * FROM sop.demand_plan WHERE cycle = ? AND version = 1", [OCT])
        history = plan_history(con, OCT)
    assert (rerun.written, rerun.state) == (False, "approved")
    assert scored["plan_state"].unique().to_list() == ["approved"] and scored["scored_version"].unique().to_list() == [1]
    assert scored["executive"].to_list() == scored["consensus"].to_list() == [12.0, 20.0]
    assert scored["demand_review"].to_list() == [12.0, 20.0]
    assert original.select(legacy.columns).drop("is_current").equals(legacy.drop("is_current"))
    assert original["plan_state"].is_null().all()  # never rewritten: read as approved
    assert reapproved.version == 2 and history.select("version", "plan_state").rows() == [(1, "approved"), (2, "approved")]


def test_earlier_plans_score_the_approved_version_else_the_last_draft(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        save_draft(con, OCT, plan(7.0, OCT))
        save_draft(con, OCT, plan(8.0, OCT))
        approve_plan(con, OCT, Approval("cautious", "anna", ON), SCENARIOS)
        save_draft(con, OCT, plan(9.0, OCT), relock=True)  # a draft after the approval is not scored
        save_draft(con, NOV, plan(7.0))
        save_draft(con, NOV, plan(8.0))
        before_dec = earlier_plans(con, DEC)
    october = before_dec.filter(pl.col("plan_cycle") == OCT, pl.col("sku") == "a").row(0, named=True)
    november = before_dec.filter(pl.col("plan_cycle") == NOV, pl.col("sku") == "a").row(0, named=True)
    assert (october["scored_version"], october["plan_state"], october["consensus"], october["demand_review"]) == (
        3, "approved", 8.0, 8.0)
    assert october["executive"] == pytest.approx((6 + 8) / 2 * 0.5)  # the cautious scenario's demand
    assert (november["scored_version"], november["plan_state"], november["consensus"], november["executive"]) == (
        2, "draft", 8.0, None)


def test_the_overrides_fingerprint_ignores_order_and_other_cycles_but_not_a_changed_value():
    from sop_pipeline.plan.lock import overrides_fingerprint

    nov, dec = date(2026, 11, 1), date(2026, 12, 1)
    rows = pl.DataFrame({"cycle": [nov, nov, dec], "sku": ["A", "B", "A"], "quantity": [10.0, None, 5.0]})
    same = overrides_fingerprint(rows, nov)
    assert overrides_fingerprint(rows.reverse().select(reversed(rows.columns)), nov) == same
    assert overrides_fingerprint(rows.with_columns(pl.when(pl.col("cycle") == dec).then(99.0)
                                                   .otherwise(pl.col("quantity")).alias("quantity")), nov) == same
    assert overrides_fingerprint(rows.with_columns(pl.col("quantity") + 1), nov) != same
    assert overrides_fingerprint(rows.head(1), nov) != same
