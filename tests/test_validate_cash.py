"""The optional cash inputs (payment terms, cash position, opex, payables) are validated like every other data set:
an unknown channel and negative opening cash beyond the credit line are rejected with file, row and column, and a
rejected landing writes no raw table."""

from __future__ import annotations

import copy

import dagster as dg
import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.ingest import raw_inputs
from sop_pipeline.ingest.contract import CASH_POSITION, PAYMENT_TERMS
from sop_pipeline.ingest.validate import Violation, load_inputs
from sop_pipeline.warehouse import connect

from conftest import AS_OF, TINY_LANDING, write_landing

CASH_INPUTS = {
    "payment_terms": {"channel": ["DTC", "Wholesale"], "collection_days": ["0", "60"]},
    "cash_position": {"as_of": ["2026-10-31"], "opening_cash": ["-50000"], "credit_line": ["80000"]},
    "opex": {"month": ["2026-11-01", "2026-12-01"], "category": ["Payroll", "Payroll"], "amount": ["4000", "4000"]},
    "payables": {"due_date": ["2027-01-15"], "description": ["VAT Q4"], "amount": ["1800"]},
}


def _landing(tmp_path, **changes: tuple[str, int, str]):
    """TINY_LANDING with the cash inputs, each change `data set__column=(row index, value)`."""
    data = {**copy.deepcopy(TINY_LANDING), **copy.deepcopy(CASH_INPUTS)}
    for name, (row, value) in changes.items():
        dataset, column = name.split("__")
        data[dataset][column][row] = value
    return write_landing(tmp_path / "landing", data)


def test_cash_inputs_pass_and_are_typed(tmp_path):
    result = load_inputs(_landing(tmp_path), AS_OF)
    assert result.violations == []
    terms = result.frames[PAYMENT_TERMS]
    assert terms.select("channel", "collection_days").rows() == [("DTC", 0), ("Wholesale", 60)]
    assert result.frames[CASH_POSITION]["opening_cash"].to_list() == [-50000.0]  # drawn on the credit line


def test_an_unknown_channel_in_the_payment_terms_is_rejected_on_its_cell(tmp_path):
    result = load_inputs(_landing(tmp_path, payment_terms__channel=(1, "Retail")), AS_OF)
    assert result.violations == [Violation("payment_terms/payment_terms.csv", 3, "channel",
                                           "unknown channel: not a channel in sales", "Retail")]


def test_negative_opening_cash_beyond_the_credit_line_is_rejected(tmp_path):
    result = load_inputs(_landing(tmp_path, cash_position__opening_cash=(0, "-80000.01")), AS_OF)
    (violation,) = result.violations
    assert (violation.file, violation.row, violation.column) == ("cash_position/cash_position.csv", 2, "opening_cash")
    assert violation.rule.startswith("negative opening cash beyond the credit line")
    assert violation.message().startswith("cash_position/cash_position.csv, row 2, column 'opening_cash': negative")


def test_without_a_credit_line_any_negative_opening_cash_is_beyond_it(tmp_path):
    landing = _landing(tmp_path, cash_position__credit_line=(0, ""))
    assert [v.column for v in load_inputs(landing, AS_OF).violations] == ["opening_cash"]


def test_negative_collection_days_and_opex_are_rejected(tmp_path):
    landing = _landing(tmp_path, payment_terms__collection_days=(0, "-5"), opex__amount=(1, "-1"))
    assert [(v.file, v.row, v.column, v.rule) for v in load_inputs(landing, AS_OF).violations] == [
        ("opex/opex.csv", 3, "amount", "must be >= 0"),
        ("payment_terms/payment_terms.csv", 2, "collection_days", "must be >= 0"),
    ]


def test_a_rejected_cash_input_writes_no_raw_table(tmp_path):
    sop = SopConfig(home=str(tmp_path / "home"), data_dir=str(_landing(tmp_path, payment_terms__channel=(0, "Shop"))),
                    as_of="2026-11-21")
    with dg.instance_for_test() as instance:
        result = dg.materialize([raw_inputs], partition_key="2026-11-01", resources={"sop": sop}, instance=instance,
                                raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "payment_terms/payment_terms.csv, row 2, column 'channel': unknown channel" in \
        failure.step_failure_data.user_failure_data.description
    with connect(sop.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'").fetchall() == [
            (0,)]
        issues = pl.DataFrame(con.execute("SELECT file, row, \"column\" FROM quality.data_quality_issues").fetchall(),
                              schema=["file", "row", "column"], orient="row")
    assert issues.rows() == [("payment_terms/payment_terms.csv", 2, "channel")]
