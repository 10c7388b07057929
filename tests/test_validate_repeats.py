"""Rows repeated across the files of a data set, or within one file of order lines, would double the actuals:
each is one violation naming where the row was first seen; a duplicate key is never reported a second time."""

from __future__ import annotations

import copy
import shutil

import polars as pl

from sop_pipeline.ingest.validate import Violation, load_inputs

from conftest import AS_OF, TINY_LANDING, write_landing


def _rules(result) -> list[tuple]:
    return [(v.file, v.row, v.column, v.rule, v.value) for v in result.violations]


def test_a_second_copy_of_the_sales_file_names_both_files(tiny_landing):
    """`sales (1).csv` sorts before `sales.csv`, so the rows of `sales.csv` are the repeats."""
    shutil.copy(tiny_landing / "sales" / "sales.csv", tiny_landing / "sales" / "sales (1).csv")
    assert _rules(load_inputs(tiny_landing, AS_OF)) == [
        ("sales/sales.csv", 2, "*", "row repeated in another file of sales/: sales/sales (1).csv row 2",
         "2026-10-03,A-1,DTC,3,36.00"),
        ("sales/sales.csv", 3, "*", "row repeated in another file of sales/: sales/sales (1).csv row 3",
         "2026-10-04,A-1,Wholesale,10,66.00"),
        ("sales/sales.csv", 4, "*", "row repeated in another file of sales/: sales/sales (1).csv row 4",
         "2026-10-20,B-1,DTC,4,20.00"),
    ]


def test_one_resent_line_in_another_file_is_the_only_repeat(tiny_landing):
    (tiny_landing / "sales" / "sales_resent.csv").write_text(
        "date,sku,channel,quantity,net_revenue\n"
        "2026-10-05,A-1,DTC,1,12.00\n"
        "2026-10-04,A-1,Wholesale,10.0,66\n"  # sales.csv row 3, written differently: the same values
    )
    assert _rules(load_inputs(tiny_landing, AS_OF)) == [
        ("sales/sales_resent.csv", 3, "*", "row repeated in another file of sales/: sales/sales.csv row 3",
         "2026-10-04,A-1,Wholesale,10.0,66"),
    ]


def test_a_parquet_copy_of_a_csv_export_is_a_repeat(tiny_landing):
    sales = tiny_landing / "sales"
    pl.read_csv(sales / "sales.csv").write_parquet(sales / "sales.parquet")  # typed: 36.00 is stored as 36.0
    assert [(v.file, v.row, v.rule) for v in load_inputs(tiny_landing, AS_OF).violations] == [
        ("sales/sales.parquet", 1, "row repeated in another file of sales/: sales/sales.csv row 2"),
        ("sales/sales.parquet", 2, "row repeated in another file of sales/: sales/sales.csv row 3"),
        ("sales/sales.parquet", 3, "row repeated in another file of sales/: sales/sales.csv row 4"),
    ]


def test_order_lines_repeated_within_a_file_are_counted_once_per_group(tmp_path):
    """Every column counts: the same line with another order number is another order."""
    data = copy.deepcopy(TINY_LANDING)
    line = ["2026-10-03", "A-1", "DTC", "3", "36.00", "C-1", "SO-1"]
    other = ["2026-10-04", "B-1", "DTC", "1", "5.00", "C-2", "SO-2"]
    rows = [line, other, line, [*other[:6], "SO-3"], line, other]
    data["sales"] = {name: [row[i] for row in rows] for i, name in enumerate(
        ["date", "sku", "channel", "quantity", "net_revenue", "customer", "order_id"])}
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert _rules(result) == [
        ("sales/sales.csv", 2, "*", "row repeated 3 times in this file", "2026-10-03,A-1,DTC,3,36.00,C-1,SO-1"),
        ("sales/sales.csv", 3, "*", "row repeated 2 times in this file", "2026-10-04,B-1,DTC,1,5.00,C-2,SO-2"),
    ]


def test_a_copy_of_a_keyed_file_is_a_repeat_not_a_duplicate_key(tiny_landing):
    shutil.copy(tiny_landing / "products" / "products.csv", tiny_landing / "products" / "products_copy.csv")
    assert [(v.file, v.row, v.column, v.rule) for v in load_inputs(tiny_landing, AS_OF).violations] == [
        ("products/products_copy.csv", 2, "*", "row repeated in another file of products/: products/products.csv row 2"),
        ("products/products_copy.csv", 3, "*", "row repeated in another file of products/: products/products.csv row 3"),
    ]


def test_a_key_given_twice_with_different_values_in_two_files_is_still_a_duplicate_key(tiny_landing):
    products = tiny_landing / "products" / "products.csv"
    lines = products.read_text().splitlines()
    (tiny_landing / "products" / "products_update.csv").write_text(
        "\n".join([lines[0], lines[1].replace("12.00", "13.00")]) + "\n")
    assert [(v.file, v.row, v.column, v.rule) for v in load_inputs(tiny_landing, AS_OF).violations] == [
        ("products/products.csv", 2, "sku", "duplicate key (sku)"),
        ("products/products_update.csv", 2, "sku", "duplicate key (sku)"),
    ]


def test_an_exact_repeat_within_a_keyed_file_stays_a_duplicate_key(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["inventory"] = {column: values + values[:1] for column, values in data["inventory"].items()}
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert [(v.file, v.row, v.column, v.rule) for v in result.violations] == [
        ("inventory/inventory.csv", 2, "snapshot_date, sku, location", "duplicate key (snapshot_date, sku, location)"),
        ("inventory/inventory.csv", 4, "snapshot_date, sku, location", "duplicate key (snapshot_date, sku, location)"),
    ]


def test_rows_that_differ_only_by_a_typo_are_not_repeats(tmp_path):
    """Cells that do not parse are compared as written, not as the same missing value."""
    data = copy.deepcopy(TINY_LANDING)
    data["sales"] = {column: [values[0], values[0]] for column, values in data["sales"].items()}
    data["sales"]["quantity"] = ["three", "tree"]
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert [(v.row, v.column, v.value) for v in result.violations] == [(2, "quantity", "three"), (3, "quantity", "tree")]
