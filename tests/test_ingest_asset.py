"""The ingest asset on its own: raw tables, freshness warnings, and a failure that writes nothing but the report."""

import copy

import dagster as dg

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.ingest import raw_inputs
from sop_pipeline.warehouse import connect

from conftest import TINY_LANDING, write_landing

CYCLE = "2026-11-01"


def _materialise(landing, home):
    sop = SopConfig(home=str(home), data_dir=str(landing), as_of="2026-11-21")
    with dg.instance_for_test() as instance:
        result = dg.materialize([raw_inputs], partition_key=CYCLE, resources={"sop": sop}, instance=instance,
                                raise_on_error=False)
        checks = {e.event_specific_data.check_name: e.event_specific_data
                  for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    return sop, result, checks


def test_good_inputs_become_raw_tables_and_fresh_actuals_pass(tiny_landing, tmp_path):
    sop, result, checks = _materialise(tiny_landing, tmp_path / "home")
    assert result.success
    assert {name: c.passed for name, c in checks.items()} == {
        "sales_reach_the_previous_month": True, "stock_count_is_from_the_previous_month": True,
    }
    with connect(sop.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*), sum(quantity) FROM raw.sales").fetchall()[0] == (3, 17.0)
        assert con.execute("SELECT count(*) FROM quality.data_quality_issues").fetchall()[0][0] == 0


def test_a_missing_month_of_actuals_warns_but_does_not_fail(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["date"] = ["2026-09-03", "2026-09-04", "2026-09-20"]
    data["inventory"]["snapshot_date"] = ["2026-09-30", "2026-09-30"]
    sop, result, checks = _materialise(write_landing(tmp_path / "landing", data), tmp_path / "home")
    assert result.success
    assert not checks["sales_reach_the_previous_month"].passed
    assert checks["sales_reach_the_previous_month"].severity == dg.AssetCheckSeverity.WARN
    assert "do not reach October 2026" in checks["sales_reach_the_previous_month"].description
    assert not checks["stock_count_is_from_the_previous_month"].passed


def test_a_violation_fails_before_any_raw_table_is_written(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["quantity"][0] = "-1"
    sop, result, _ = _materialise(write_landing(tmp_path / "landing", data), tmp_path / "home")
    assert not result.success
    with connect(sop.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()[0][0] == 0
        issues = con.execute("SELECT file, row, \"column\", rule FROM quality.data_quality_issues").fetchall()
    assert issues == [("sales/sales.csv", 2, "quantity", "must be >= 0")]
    assert (sop.reports_path / f"data_quality_{CYCLE}.csv").read_text().count("\n") == 2
