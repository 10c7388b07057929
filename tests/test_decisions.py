"""The decision log: recorded through `sop decide` or a landing file, checked like every input, followed up."""

from datetime import date

import polars as pl
import pytest

from sop_pipeline.plan.decisions import DECISIONS_SCHEMA, decision_log, follow_up, write_decision

AS_OF = date(2026, 11, 21)
NOV, OCT, SEP = date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1)


def _log(rows):
    return pl.DataFrame(rows, schema={"decision_id": pl.String, "cycle": pl.Date, "decision": pl.String,
                                      "owner": pl.String, "due_date": pl.Date, "status": pl.String,
                                      "sku": pl.String, "family": pl.String, "exception_type": pl.String},
                        orient="row")


LOG = _log([
    ("D-1", SEP, "cut C-1 buy", "ann", date(2026, 9, 30), "done", None, "Candles", "excess"),
    ("D-2", OCT, "expedite PO-7", "bo", date(2026, 10, 20), "open", "A-1", None, "stockout"),  # overdue at Nov
    ("D-3", OCT, "second source", "cy", date(2026, 12, 15), "in_progress", None, None, "capacity_overload"),
    ("D-4", OCT, "drop promo", "di", date(2026, 10, 5), "dropped", None, None, None),  # finished: not overdue
    ("D-5", OCT, "price review", "ed", None, "done", None, None, None),
    ("D-6", date(2026, 12, 1), "later meeting", "fa", None, "open", None, None, None),  # after the cycle
])


def test_the_log_as_of_a_cycle_flags_overdue_and_last_cycles_decisions():
    log = decision_log(LOG, NOV)
    assert log.schema == pl.Schema(DECISIONS_SCHEMA)
    assert log["decision_id"].to_list() == ["D-1", "D-2", "D-3", "D-4", "D-5"]
    assert dict(zip(log["decision_id"], log["is_overdue"])) == {
        "D-1": False, "D-2": True, "D-3": False, "D-4": False, "D-5": False}
    assert log.filter(pl.col("is_from_last_cycle"))["decision_id"].to_list() == ["D-2", "D-3", "D-4", "D-5"]
    assert follow_up(log) == {"taken": 4, "done": 1, "dropped": 1, "open": 2, "overdue": 1}


def test_a_cycle_before_any_decision_has_an_empty_log():
    log = decision_log(LOG, SEP.replace(month=8))
    assert log.is_empty() and follow_up(log) == {"taken": 0, "done": 0, "dropped": 0, "open": 0, "overdue": 0}


def test_decide_adds_numbered_decisions_and_updates_them(tiny_landing):
    first = write_decision(tiny_landing, AS_OF, {"cycle": "2026-11-01", "decision": "expedite", "owner": "maria",
                                                 "sku": "A-1", "exception_type": "stockout"})
    second = write_decision(tiny_landing, AS_OF, {"cycle": "2026-11-01", "decision": "promote", "owner": "li",
                                                  "family": "Soaps", "due_date": "2026-12-15"})
    assert (first, second) == ("D-2026-11-01", "D-2026-11-02")
    assert write_decision(tiny_landing, AS_OF, {"status": "done"}, decision_id=first) == first
    log = pl.read_csv(tiny_landing / "decisions" / "decisions.csv", infer_schema=False)
    assert log.select("decision_id", "status", "sku", "family").rows() == [
        ("D-2026-11-01", "done", "A-1", None), ("D-2026-11-02", "open", None, "Soaps")]


@pytest.mark.parametrize("changes, column, rule", [
    ({"sku": "NOPE"}, "sku", "unknown"),
    ({"status": "finished"}, "status", "must be one of"),
    ({"due_date": "2026-13-01"}, "due_date", "date"),
    ({"exception_type": "fire"}, "exception_type", "must be one of"),
])
def test_a_bad_decision_names_file_row_and_column_and_writes_nothing(tiny_landing, changes, column, rule):
    write_decision(tiny_landing, AS_OF, {"cycle": "2026-11-01", "decision": "expedite", "owner": "maria"})
    path = tiny_landing / "decisions" / "decisions.csv"
    before = path.read_bytes()
    with pytest.raises(ValueError) as error:
        write_decision(tiny_landing, AS_OF, {"cycle": "2026-11-01", "decision": "x", "owner": "y", **changes})
    message = str(error.value)
    assert "decisions/decisions.csv, row 3" in message and f"column {column!r}" in message and rule in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["decisions.csv"]


def test_updating_an_unknown_decision_is_an_error(tiny_landing):
    with pytest.raises(ValueError, match="no decision has that id"):
        write_decision(tiny_landing, AS_OF, {"status": "done"}, decision_id="D-1999-01-01")


def test_the_cli_records_a_decision_and_refuses_an_incomplete_one(tiny_landing, capsys, monkeypatch):
    from sop_pipeline.cli import main

    monkeypatch.setenv("SOP_AS_OF", AS_OF.isoformat())
    assert main(["decide", "--data", str(tiny_landing), "--cycle", "2026-11", "--decision", "air freight",
                 "--owner", "maria", "--sku", "A-1"]) == 0
    assert "decision D-2026-11-01 recorded" in capsys.readouterr().out
    assert main(["decide", "--data", str(tiny_landing), "--decision", "no cycle"]) == 2
    assert "needs --cycle, --decision and --owner" in capsys.readouterr().err
