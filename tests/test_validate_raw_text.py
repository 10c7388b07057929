"""The raw text of a CSV file: field counts, UTF-8, the delimiter and comma decimals, each named by file, row
and column before polars can misread the file."""

from __future__ import annotations

import copy

import polars as pl

from sop_pipeline.ingest.validate import (
    COMMA_DECIMAL_RULE,
    FEWER_FIELDS_RULE,
    MORE_FIELDS_RULE,
    SEMICOLON_RULE,
    THOUSANDS_RULE,
    UTF8_RULE,
    Violation,
    load_inputs,
    scan_csv_rows,
)

from conftest import AS_OF, TINY_LANDING, write_landing

SALES_HEADER = "date,sku,channel,quantity,net_revenue"


def _sales_lines(landing) -> list[str]:
    return (landing / "sales" / "sales.csv").read_text().splitlines()


def _write_sales(landing, lines: list[str]) -> None:
    (landing / "sales" / "sales.csv").write_text("\n".join(lines) + "\n")


def test_a_cut_off_last_line_is_a_row_with_fewer_fields(tiny_landing):
    """An interrupted upload: polars would fill the row's missing cells with nulls and read it as valid."""
    lines = _sales_lines(tiny_landing)
    assert lines[3] == "2026-10-20,B-1,DTC,4,20.00"
    _write_sales(tiny_landing, lines[:3] + ["2026-10-20,B-1,DT"])
    assert load_inputs(tiny_landing, AS_OF).violations == [
        Violation("sales/sales.csv", 4, "*", FEWER_FIELDS_RULE, "2026-10-20,B-1,DT")
    ]


def test_rows_too_short_and_too_long_are_reported_together_and_nothing_else(tiny_landing):
    """The file is not parsed further: its short row's empty cells are not reported again as empty values."""
    lines = _sales_lines(tiny_landing)
    _write_sales(tiny_landing, [lines[0], lines[1] + ",x", "2026-10-04,A-1", lines[3]])
    assert load_inputs(tiny_landing, AS_OF).violations == [
        Violation("sales/sales.csv", 2, "*", MORE_FIELDS_RULE, "2026-10-03,A-1,DTC,3,36.00,x"),
        Violation("sales/sales.csv", 3, "*", FEWER_FIELDS_RULE, "2026-10-04,A-1"),
    ]


def test_a_blank_line_is_a_row_without_its_fields(tiny_landing):
    lines = _sales_lines(tiny_landing)
    _write_sales(tiny_landing, lines[:2] + [""] + lines[2:])
    assert load_inputs(tiny_landing, AS_OF).violations == [Violation("sales/sales.csv", 3, "*", FEWER_FIELDS_RULE, "")]


def test_rows_are_counted_as_records_a_quoted_line_break_stays_in_its_row():
    text = 'a,b,c\n1,"two\nlines",3\n4,5\n6,7,8\n'
    assert scan_csv_rows(text, True, "f.csv") == (["a", "b", "c"], [Violation("f.csv", 3, "*", FEWER_FIELDS_RULE, "4,5")])


def test_in_a_one_column_file_a_blank_line_is_an_empty_cell():
    assert scan_csv_rows("a\n1\n\n2\n", True, "f.csv") == (["a"], [])


def _latin1(path, old: str, new: str) -> None:
    """Rewrite a file as a Latin-1 export would, with `old` replaced by `new`."""
    path.write_bytes(path.read_text(encoding="utf-8").replace(old, new).encode("latin-1"))


def test_latin1_text_is_rejected_where_it_is_not_read_as_a_replacement_character(tiny_landing):
    """Read lossily, 'ACC-Ä03' became 'ACC-\ufffd03' in both files, and the two garbled SKUs matched: no violation."""
    _latin1(tiny_landing / "products" / "products.csv", "B-1", "ACC-Ä03")
    _latin1(tiny_landing / "sales" / "sales.csv", "B-1", "ACC-Ä03")
    violations = load_inputs(tiny_landing, AS_OF).violations
    assert [(v.file, v.row, v.column, v.rule, v.value) for v in violations if v.rule == UTF8_RULE] == [
        ("products/products.csv", 3, "sku", UTF8_RULE, "ACC-\\xc403"),
        ("sales/sales.csv", 4, "sku", UTF8_RULE, "ACC-\\xc403"),
    ]
    # Without products, the other data sets' SKUs cannot be checked; nothing else is wrong with them.
    assert len(violations) == 2


def test_a_header_that_is_not_utf8_is_named_on_row_1(tiny_landing):
    _latin1(tiny_landing / "budget" / "budget.csv", "revenue_target", "revenue_targé")
    assert load_inputs(tiny_landing, AS_OF).violations == [
        Violation("budget/budget.csv", 1, "*", UTF8_RULE, "revenue_targ\\xe9")
    ]


def test_utf8_text_with_accents_and_a_byte_order_mark_is_valid(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["products"]["name"][0] = "Bougie crème brûlée"
    landing = write_landing(tmp_path / "landing", data)
    products = landing / "products" / "products.csv"
    products.write_bytes(b"\xef\xbb\xbf" + products.read_bytes())  # Excel's "CSV UTF-8"
    result = load_inputs(landing, AS_OF)
    assert result.violations == []
    names = next(f for d, f in result.frames.items() if d.name == "products")["name"].to_list()
    assert names == ["Bougie crème brûlée", "Soap B"]


def test_a_semicolon_delimited_file_says_so_once(tiny_landing):
    """German Excel's 'CSV': semicolons between fields, commas in numbers (36,00 here adds a field)."""
    lines = [line.replace(",", ";").replace(".", ",") for line in _sales_lines(tiny_landing)]
    _write_sales(tiny_landing, lines)
    assert load_inputs(tiny_landing, AS_OF).violations == [
        Violation("sales/sales.csv", None, "*", SEMICOLON_RULE, "date;sku;channel;quantity;net_revenue")
    ]


def test_a_comma_decimal_or_thousands_separator_is_named_as_such(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["net_revenue"][0] = "4,07"
    data["sales"]["quantity"][1] = "1,234.5"
    data["sales"]["quantity"][2] = "4 units"
    data["products"]["moq"][0] = "2,5"
    result = load_inputs(write_landing(tmp_path / "landing", data), AS_OF)
    assert [(v.file, v.row, v.column, v.rule, v.value) for v in result.violations] == [
        ("products/products.csv", 2, "moq", COMMA_DECIMAL_RULE, "2,5"),
        ("sales/sales.csv", 2, "net_revenue", COMMA_DECIMAL_RULE, "4,07"),
        ("sales/sales.csv", 3, "quantity", THOUSANDS_RULE, "1,234.5"),
        ("sales/sales.csv", 4, "quantity", "wrong type: expected a (finite) number", "4 units"),
    ]


def test_a_parquet_file_is_not_scanned_as_text(tiny_landing):
    """Parquet stores typed UTF-8 columns: none of the CSV text rules applies."""
    sales_csv = tiny_landing / "sales" / "sales.csv"
    pl.read_csv(sales_csv, infer_schema=False).write_parquet(tiny_landing / "sales" / "sales.parquet")
    sales_csv.unlink()
    assert load_inputs(tiny_landing, AS_OF).violations == []
