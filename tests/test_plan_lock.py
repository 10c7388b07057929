"""The locked plan: written once per cycle, kept on reruns, versioned (never lost) on a forced re-lock."""

from datetime import date

import polars as pl

from sop_pipeline.plan.lock import current_plan, earlier_plans, lock_plan, plan_versions
from sop_pipeline.warehouse import connect

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def plan(consensus: float) -> pl.DataFrame:
    return pl.DataFrame({"sku": ["a", "b"], "month": [NOV, NOV], "forecast": [10.0, 20.0],
                         "consensus": [consensus, 20.0]})


def test_a_rerun_keeps_the_locked_plan_even_when_the_new_one_differs(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        first = lock_plan(con, NOV, plan(12.0))
        again = lock_plan(con, NOV, plan(99.0))
        kept = current_plan(con, NOV)
    assert (first.version, first.written) == (1, True)
    assert (again.version, again.written, again.versions) == (1, False, 1)
    assert kept["consensus"].to_list() == [12.0, 20.0]


def test_a_relock_writes_a_new_current_version_and_keeps_the_old_one(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        lock_plan(con, NOV, plan(12.0))
        outcome = lock_plan(con, NOV, plan(99.0), relock=True)
        current = current_plan(con, NOV)
        every = con.execute("SELECT version, is_current, consensus FROM sop.demand_plan WHERE sku = 'a' "
                            "ORDER BY version").fetchall()
        versions = plan_versions(con, NOV)
    assert (outcome.version, outcome.written, outcome.versions) == (2, True, 2)
    assert current["consensus"].to_list() == [99.0, 20.0] and current["version"].unique().to_list() == [2]
    assert every == [(1, False, 12.0), (2, True, 99.0)]
    assert versions == [1, 2]


def test_each_cycle_is_locked_on_its_own_and_earlier_plans_are_the_current_versions(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        assert earlier_plans(con, NOV).is_empty()
        lock_plan(con, OCT, plan(1.0))
        lock_plan(con, OCT, plan(2.0), relock=True)
        lock_plan(con, NOV, plan(3.0))
        before_nov = earlier_plans(con, NOV)
    assert before_nov["plan_cycle"].unique().to_list() == [OCT]
    assert before_nov.filter(pl.col("sku") == "a")["consensus"].to_list() == [2.0]


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
