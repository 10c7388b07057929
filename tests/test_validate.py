"""Each rule of the landing contract rejects its bad row, and names file, row, column, rule and value."""

from __future__ import annotations

import copy
import shutil

import polars as pl
import pytest

from sop_pipeline.ingest.contract import DATASETS, PRODUCTS
from sop_pipeline.ingest.validate import Violation, load_inputs, summarise

from conftest import AS_OF, TINY_LANDING, write_landing


def _landing_with(tmp_path, dataset: str, column: str, row: int, value: str):
    data = copy.deepcopy(TINY_LANDING)
    data[dataset][column][row] = value
    return write_landing(tmp_path / "landing", data)


def test_good_data_passes_and_is_typed(tiny_landing):
    result = load_inputs(tiny_landing, AS_OF)
    assert result.violations == []
    products = next(f for d, f in result.frames.items() if d is PRODUCTS)
    assert products.schema["unit_cost"] == pl.Float64
    assert products.schema["launch_date"] == pl.Date
    assert products["_source_row"].to_list() == [2, 3]  # the header is row 1
    assert {d.name for d in result.frames} == {d.name for d in DATASETS}


# (data set, column, row index, bad value, expected spreadsheet row, expected rule prefix)
SINGLE_CELL_CASES = [
    ("sales", "quantity", 0, "-5", 2, "must be >= 0"),
    ("sales", "sku", 1, "ZZZ-9", 3, "unknown SKU: not in products"),
    ("inventory", "snapshot_date", 1, "31/10/2026", 3, "unparsable date: expected YYYY-MM-DD"),
    ("sales", "date", 2, "2099-01-01", 4, "future-dated"),
    ("products", "unit_price", 1, "cheap", 3, "wrong type: expected a (finite) number"),
    ("sales", "net_revenue", 0, "inf", 2, "wrong type: expected a (finite) number"),
    ("inventory", "on_hand", 0, "NaN", 2, "wrong type: expected a (finite) number"),
    ("products", "discontinue_date", 0, "2024-06-01", 2, "discontinue_date must not be before launch_date"),
    ("products", "supplier", 1, "SUP-99", 3, "unknown supplier: not in suppliers"),
    ("purchase_orders", "expected_date", 0, "2026-09-01", 2, "expected_date must not be before order_date"),
    ("budget", "family", 1, "Perfume", 3, "unknown family: not in products"),
    ("events", "family", 0, "Perfume", 2, "unknown family: not in products"),
    ("products", "moq", 0, "2.5", 2, "wrong type: expected a whole number"),
    ("products", "name", 0, "", 2, "required value is empty"),
    ("products", "status", 1, "retired", 3, "must be one of active, phase_out, discontinued"),
    ("purchase_orders", "status", 0, "shipped", 2, "must be one of open, partial, received, cancelled"),
    ("purchase_orders", "received_quantity", 0, "500", 2, "received_quantity must not exceed quantity"),
    ("budget", "month", 0, "2026-11-15", 2, "must be the first day of a month"),
    ("suppliers", "deposit_share", 0, "1.5", 2, "must be <= 1"),
    ("events", "end_date", 0, "2026-11-01", 2, "end_date must not be before start_date"),
    ("overrides", "sku", 0, "NOPE", 2, "unknown SKU: not in products"),
    ("missing_months", "month", 0, "2026-09-15", 2, "must be the first day of a month"),
    ("missing_months", "sku", 0, "ZZZ-9", 2, "unknown SKU: not in products"),
    ("missing_months", "month", 0, "2099-01-01", 2, "future-dated"),
]


@pytest.mark.parametrize("dataset,column,index,value,row,rule", SINGLE_CELL_CASES)
def test_each_rule_rejects_its_bad_cell(tmp_path, dataset, column, index, value, row, rule):
    result = load_inputs(_landing_with(tmp_path, dataset, column, index, value), AS_OF)
    assert len(result.violations) == 1, result.violations
    v = result.violations[0]
    assert (v.file, v.row, v.column) == (f"{dataset}/{dataset}.csv", row, column)
    assert v.rule.startswith(rule)
    assert v.value == (value or None)


def test_duplicate_key_reports_every_row_of_the_key(tmp_path):
    result = load_inputs(_landing_with(tmp_path, "products", "sku", 1, "A-1"), AS_OF)
    duplicates = [v for v in result.violations if v.rule == "duplicate key (sku)"]
    assert [(v.file, v.row, v.column, v.value) for v in duplicates] == [
        ("products/products.csv", 2, "sku", "A-1"),
        ("products/products.csv", 3, "sku", "A-1"),
    ]


def test_composite_key_duplicate_names_the_key_columns(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["inventory"]["sku"][1] = "A-1"
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert {v.row for v in result.violations} == {2, 3}
    assert all(v.rule == "duplicate key (snapshot_date, sku, location)" for v in result.violations)
    assert result.violations[0].value == "snapshot_date=2026-10-31, sku=A-1, location=WH-MAIN"


def test_missing_required_column_names_file_and_column(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    del data["sales"]["net_revenue"]
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert result.violations == [Violation("sales/sales.csv", None, "net_revenue", "missing required column", None)]


def test_a_discontinued_sku_needs_its_discontinue_date(tmp_path):
    result = load_inputs(_landing_with(tmp_path, "products", "status", 0, "discontinued"), AS_OF)
    assert [(v.row, v.column, v.rule, v.value) for v in result.violations] == [
        (2, "discontinue_date", "a discontinued SKU needs its discontinue_date", None)
    ]


def test_exactly_one_of_sku_or_family_on_events(tmp_path):
    result = load_inputs(_landing_with(tmp_path, "events", "sku", 0, "A-1"), AS_OF)
    assert [(v.row, v.column, v.rule, v.value) for v in result.violations] == [
        (2, "sku/family", "exactly one of sku / family must be filled", "sku=A-1, family=Candles")
    ]


def test_without_suppliers_the_supplier_column_is_not_checked(tiny_landing):
    shutil.rmtree(tiny_landing / "suppliers")
    assert load_inputs(tiny_landing, AS_OF).violations == []


def test_exactly_one_of_quantity_or_percent(tmp_path):
    result = load_inputs(_landing_with(tmp_path, "overrides", "percent", 0, "0.1"), AS_OF)
    assert [(v.row, v.column, v.rule) for v in result.violations] == [
        (2, "quantity/percent", "exactly one of quantity / percent must be filled")
    ]
    assert result.violations[0].value == "quantity=40, percent=0.1"


def test_missing_required_data_set_is_rejected_but_optional_ones_may_be_absent(tiny_landing):
    shutil.rmtree(tiny_landing / "sales")
    shutil.rmtree(tiny_landing / "budget")
    result = load_inputs(tiny_landing, AS_OF)
    assert [(v.file, v.rule) for v in result.violations] == [
        ("sales/", "required data set is missing: no CSV or Parquet file")
    ]


def test_a_landing_folder_without_stock_counts_or_purchase_orders_is_accepted(tiny_landing):
    """Forecast-only data: products and sales (and the optional plans), nothing about supply."""
    for name in ("inventory", "purchase_orders", "suppliers", "missing_months"):
        shutil.rmtree(tiny_landing / name)
    result = load_inputs(tiny_landing, AS_OF)
    assert result.violations == []
    heights = {d.name: f.height for d, f in result.frames.items()}
    assert heights["inventory"] == heights["purchase_orders"] == heights["missing_months"] == 0
    assert heights["products"] == 2 and heights["sales"] == 3


def test_missing_months_are_keyed_by_sku_and_month_and_need_no_reason(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["missing_months"] = {"sku": ["B-1", "A-1", "B-1"], "month": ["2026-09-01", "2026-09-01", "2026-09-01"],
                              "reason": ["", "", "again"]}
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert [(v.file, v.row, v.column, v.rule) for v in result.violations] == [
        ("missing_months/missing_months.csv", 2, "sku, month", "duplicate key (sku, month)"),
        ("missing_months/missing_months.csv", 4, "sku, month", "duplicate key (sku, month)"),
    ]


def test_all_violations_are_collected_not_just_the_first(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["quantity"] = ["-1", "-2", "x"]
    data["products"]["unit_cost"][0] = "-4"
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert [(v.file, v.row, v.column) for v in result.violations] == [
        ("products/products.csv", 2, "unit_cost"),
        ("sales/sales.csv", 2, "quantity"),
        ("sales/sales.csv", 3, "quantity"),
        ("sales/sales.csv", 4, "quantity"),
    ]
    assert summarise(result.violations).splitlines() == [
        "4 input violation(s) of 3 kind(s); nothing downstream was run or published:",
        "  - products/products.csv, row 2, column 'unit_cost': must be >= 0 (value: '-4')",
        "  - sales/sales.csv, rows 2, 3, column 'quantity': must be >= 0 (value: '-1', …)",
        "  - sales/sales.csv, row 4, column 'quantity': wrong type: expected a (finite) number (value: 'x')",
    ]


def test_parquet_files_follow_the_same_contract(tmp_path, tiny_landing):
    sales_csv = tiny_landing / "sales" / "sales.csv"
    # pandas-written Parquet stores dates as midnight timestamps: they must read as dates.
    frame = pl.read_csv(sales_csv).with_columns(pl.col("date").str.to_datetime("%Y-%m-%d"))
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(-7).otherwise(pl.col("quantity")).alias("quantity"))
    frame.write_parquet(tiny_landing / "sales" / "sales.parquet")
    sales_csv.unlink()
    result = load_inputs(tiny_landing, AS_OF)
    assert [(v.file, v.row, v.column, v.value) for v in result.violations] == [
        ("sales/sales.parquet", 2, "quantity", "-7")
    ]


def test_an_empty_file_is_a_violation_naming_the_columns_it_needs(tiny_landing):
    (tiny_landing / "sales" / "sales.csv").write_text("")
    result = load_inputs(tiny_landing, AS_OF)
    assert result.violations == [Violation(
        "sales/sales.csv", None, "*", "file is empty: expected a header row with columns date, sku, channel, quantity, "
        "net_revenue", None)]


def test_a_row_with_more_fields_than_the_header_is_named_by_its_row(tiny_landing):
    sales_csv = tiny_landing / "sales" / "sales.csv"
    lines = sales_csv.read_text().splitlines()
    lines[2] += ",extra"  # the row of 2026-10-04, row 3 as a spreadsheet shows it
    sales_csv.write_text("\n".join(lines) + "\n")
    result = load_inputs(tiny_landing, AS_OF)
    assert result.violations == [Violation(
        "sales/sales.csv", 3, "*", "row has more fields than the header", "2026-10-04,A-1,Wholesale,10,66.00,extra")]
    assert summarise(result.violations).splitlines()[1] == (
        "  - sales/sales.csv, row 3, column '*': row has more fields than the header "
        "(value: '2026-10-04,A-1,Wholesale,10,66.00,extra')")


def test_a_corrupt_parquet_file_is_a_violation(tiny_landing):
    (tiny_landing / "inventory" / "inventory.csv").unlink()
    (tiny_landing / "inventory" / "inventory.parquet").write_bytes(b"PAR1 truncated")
    result = load_inputs(tiny_landing, AS_OF)
    assert result.violations == [Violation("inventory/inventory.parquet", None, "*", "not a readable Parquet file", None)]
