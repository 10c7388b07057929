"""The ingest asset on its own: raw tables, failures on bad or stale inputs that write nothing but the report, and
freshness warnings when stale actuals are allowed."""

import copy
import shutil

import dagster as dg

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.ingest import raw_inputs
from sop_pipeline.ingest.contract import DATASETS
from sop_pipeline.warehouse import connect

from conftest import TINY_LANDING, write_landing

CYCLE = "2026-11-01"


def _materialise(landing, home, **settings):
    sop = SopConfig(home=str(home), data_dir=str(landing), as_of="2026-11-21", **settings)
    with dg.instance_for_test() as instance:
        result = dg.materialize([raw_inputs], partition_key=CYCLE, resources={"sop": sop}, instance=instance,
                                raise_on_error=False)
        checks = {e.event_specific_data.check_name: e.event_specific_data
                  for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    return sop, result, checks


def _failure(result) -> str:
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.step_failure_data.user_failure_data.description


def _raw_tables(sop) -> int:
    with connect(sop.warehouse_path, read_only=True) as con:
        return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()[0][0]


def test_good_inputs_become_raw_tables_and_fresh_actuals_pass(tiny_landing, tmp_path):
    sop, result, checks = _materialise(tiny_landing, tmp_path / "home")
    assert result.success
    assert {name: c.passed for name, c in checks.items()} == {
        "sales_reach_the_previous_month": True, "stock_count_is_from_the_previous_month": True,
    }
    with connect(sop.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*), sum(quantity) FROM raw.sales").fetchall()[0] == (3, 17.0)
        assert con.execute("SELECT count(*) FROM quality.data_quality_issues").fetchall()[0][0] == 0


def _stale_landing(tmp_path):
    """Sales and stock counts stop in September: the November cycle lacks October's actuals."""
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["date"] = ["2026-09-03", "2026-09-04", "2026-09-20"]
    data["inventory"]["snapshot_date"] = ["2026-09-30", "2026-09-30"]
    return write_landing(tmp_path / "landing", data)


def test_stale_actuals_fail_before_any_raw_table_is_written(tmp_path):
    sop, result, checks = _materialise(_stale_landing(tmp_path), tmp_path / "home")
    assert not result.success
    assert _failure(result).splitlines() == [
        "Stale actuals: the cycle 2026-11-01 plans from the actuals of October 2026, the month before it, and they "
        "are missing; nothing was written to the raw tables.",
        "  - Sales lines do not reach October 2026 (the latest is 2026-09-20): the cycle 2026-11-01 plans without "
        "that month's actuals.",
        "  - Stock counts do not reach October 2026 (the latest is 2026-09-30): the cycle 2026-11-01 plans without "
        "that month's actuals.",
        "Deliver that month's exports, or plan on these actuals anyway with `sop run --allow-stale-actuals`.",
    ]
    assert checks == {}
    assert _raw_tables(sop) == 0


def test_allowed_stale_actuals_are_written_and_the_checks_warn(tmp_path):
    sop, result, checks = _materialise(_stale_landing(tmp_path), tmp_path / "home", allow_stale_actuals=True)
    assert result.success
    assert not checks["sales_reach_the_previous_month"].passed
    assert checks["sales_reach_the_previous_month"].severity == dg.AssetCheckSeverity.WARN
    assert "do not reach October 2026" in checks["sales_reach_the_previous_month"].description
    assert not checks["stock_count_is_from_the_previous_month"].passed
    assert _raw_tables(sop) == len(DATASETS)  # every data set, the optional ones absent from the landing empty


def test_a_stale_stock_count_alone_fails_the_run(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["inventory"]["snapshot_date"] = ["2026-09-30", "2026-09-30"]  # sales reach October, counts do not
    sop, result, _ = _materialise(write_landing(tmp_path / "landing", data), tmp_path / "home")
    assert not result.success
    assert "Stock counts do not reach October 2026 (the latest is 2026-09-30)" in _failure(result)
    assert "Sales lines" not in _failure(result)


def test_forecast_only_inputs_without_stock_counts_are_not_stale(tiny_landing, tmp_path):
    for name in ("inventory", "purchase_orders", "suppliers"):
        shutil.rmtree(tiny_landing / name)
    sop, result, checks = _materialise(tiny_landing, tmp_path / "home")
    assert result.success
    assert checks["stock_count_is_from_the_previous_month"].passed


def test_a_date_before_the_cycles_earliest_date_fails_the_run(tmp_path):
    """The November 2026 cycle with the default 10 years of history accepts nothing before November 2016."""
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["date"][0] = "2016-10-31"
    sop, result, _ = _materialise(write_landing(tmp_path / "landing", data), tmp_path / "home")
    assert not result.success
    with connect(sop.warehouse_path, read_only=True) as con:
        issues = con.execute("SELECT file, row, \"column\", rule FROM quality.data_quality_issues").fetchall()
    assert issues == [("sales/sales.csv", 2, "date",
                       "before the earliest date 2016-11-01 (SOP_HISTORY_YEARS=10 years before the cycle)")]
    assert _raw_tables(sop) == 0


def test_a_violation_fails_before_any_raw_table_is_written(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["quantity"][0] = "-1"
    sop, result, _ = _materialise(write_landing(tmp_path / "landing", data), tmp_path / "home")
    assert not result.success
    assert _raw_tables(sop) == 0
    with connect(sop.warehouse_path, read_only=True) as con:
        issues = con.execute("SELECT file, row, \"column\", rule FROM quality.data_quality_issues").fetchall()
    assert issues == [("sales/sales.csv", 2, "quantity", "must be >= 0")]
    assert (sop.reports_path / f"data_quality_{CYCLE}.csv").read_text().count("\n") == 2
