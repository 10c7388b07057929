"""The landing `approvals/` data set: an approval must name a scenario of the scenario file and an approver."""

from datetime import date

from sop_pipeline.ingest.contract import APPROVALS
from sop_pipeline.ingest.validate import load_dataset

AS_OF = date(2026, 11, 21)
SCENARIOS = {"scenario": ["ambitious", "cautious", "central"]}


def _load(tmp_path, lines: list[str]):
    folder = tmp_path / "approvals"
    folder.mkdir()
    (folder / "approvals.csv").write_text("\n".join(["cycle,scenario,approved_by,approved_on,note", *lines]) + "\n")
    return load_dataset(tmp_path, APPROVALS, SCENARIOS, AS_OF)


def test_a_valid_approval_loads_with_an_empty_note(tmp_path):
    frame, violations = _load(tmp_path, ["2026-11-01,central,anna,2026-11-12,"])
    assert violations == []
    assert frame.select("cycle", "scenario", "approved_by", "approved_on", "note").rows() == [
        (date(2026, 11, 1), "central", "anna", date(2026, 11, 12), None)]


def test_an_unknown_scenario_and_an_empty_approver_name_the_file_row_and_column(tmp_path):
    _, violations = _load(tmp_path, ["2026-11-01,optimistic,anna,2026-11-12,", "2026-11-01,central,,2026-11-12,"])
    found = {(v.file, v.row, v.column) for v in violations}
    assert ("approvals/approvals.csv", 2, "scenario") in found, violations
    assert ("approvals/approvals.csv", 3, "approved_by") in found, violations
    assert any("unknown scenario" in v.rule for v in violations if v.column == "scenario")
