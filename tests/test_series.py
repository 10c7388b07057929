"""`sop import-series`: a long file of monthly series becomes a landing folder the contract accepts.

Two series of the tiny file below: `7` has an empty February (missing) and no March row (missing too),
`12` starts in February and sells 0 in March (a known zero, not a missing value).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sop_pipeline.cli import main
from sop_pipeline.ingest.series import SeriesError, import_series, next_cycle
from sop_pipeline.ingest.validate import load_inputs

SERIES_CSV = """\
series_id,month,units
7,2024-01-01,5
12,2024-02-01,3
7,2024-02-01,
12,2024-03-01,0
7,2024-04-01,6.5
12,2024-04-01,4
"""
JAN, FEB, MAR, APR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)


def write(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_each_series_becomes_a_neutral_sku_launched_at_its_first_month(tmp_path):
    result = import_series(write(tmp_path, SERIES_CSV), tmp_path / "landing")
    products = result.products
    assert products.select("sku", "name", "family", "launch_date").rows() == [
        ("12", "12", "All", FEB), ("7", "7", "All", JAN),
    ]
    assert products.select("unit_cost", "unit_price", "supplier", "lead_time_days", "moq", "order_multiple",
                           "status").unique().rows() == [(1.0, 1.0, "none", 0, 1, 1, "active")]
    assert products["discontinue_date"].null_count() == 2


def test_known_values_are_sales_and_unknown_ones_missing_months_never_zeros(tmp_path):
    result = import_series(write(tmp_path, SERIES_CSV), tmp_path / "landing")
    assert result.sales.select("sku", "date", "channel", "quantity", "net_revenue").rows() == [
        ("12", FEB, "all", 3.0, 3.0),
        ("12", MAR, "all", 0.0, 0.0),  # a known zero stays a sale of zero
        ("12", APR, "all", 4.0, 4.0),
        ("7", JAN, "all", 5.0, 5.0),
        ("7", APR, "all", 6.5, 6.5),
    ]
    assert result.missing_months.rows() == [
        ("7", FEB, "missing in series.csv"),  # empty units
        ("7", MAR, "no row in series.csv"),  # no row inside the series' span
    ]
    assert next_cycle(result) == date(2024, 5, 1)


def test_the_landing_folder_meets_the_contract_without_stock_or_purchase_orders(tmp_path):
    landing = tmp_path / "landing"
    import_series(write(tmp_path, SERIES_CSV), landing)
    result = load_inputs(landing, date(2024, 5, 20))
    assert result.violations == []
    heights = {d.name: f.height for d, f in result.frames.items()}
    assert (heights["products"], heights["sales"], heights["missing_months"]) == (2, 5, 2)
    assert heights["inventory"] == heights["purchase_orders"] == heights["suppliers"] == 0
    assert (landing / "missing_months" / "missing_months.csv").read_text().splitlines() == [
        "sku,month,reason", "7,2024-02-01,missing in series.csv", "7,2024-03-01,no row in series.csv",
    ]


def test_until_keeps_only_the_months_before_it(tmp_path):
    result = import_series(write(tmp_path, SERIES_CSV), tmp_path / "landing", until=APR)
    assert result.sales.select("sku", "date").rows() == [("12", FEB), ("12", MAR), ("7", JAN)]
    assert result.missing_months.select("sku", "month").rows() == [("7", FEB), ("7", MAR)]
    assert result.last_month == MAR and next_cycle(result) == APR


def test_the_output_is_the_same_whatever_the_row_order(tmp_path):
    header, *lines = SERIES_CSV.splitlines()
    shuffled = "\n".join([header, *reversed(lines)]) + "\n"
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, text in ((first, SERIES_CSV), (second, shuffled)):
        folder.mkdir()
        import_series(write(folder, text), folder / "landing")
    for name in ("products", "sales", "missing_months"):
        relative = Path("landing") / name / f"{name}.csv"
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), name


def test_a_family_column_sets_each_series_family_and_the_flag_the_rest(tmp_path):
    text = "series_id,month,units,family\nA,2024-01-01,1,Hotels\nA,2024-02-01,2,\nB,2024-01-01,3,\n"
    result = import_series(write(tmp_path, text), tmp_path / "landing", family="Tourism")
    assert result.products.select("sku", "family").rows() == [("A", "Hotels"), ("B", "Tourism")]


@pytest.mark.parametrize("row,column,value,rule", [
    (3, "month", "2024-02-15", "must be the first day of a month"),
    (3, "month", "2024-02", "unparsable date: expected YYYY-MM-DD"),
    (4, "units", "-2", "must be >= 0"),
    (4, "units", "many", "wrong type: expected a (finite) number"),
    (2, "series_id", "", "required value is empty"),
])
def test_a_bad_cell_is_named_by_file_row_column_and_rule(tmp_path, row, column, value, rule):
    frame = pl.read_csv(SERIES_CSV.encode(), infer_schema=False)
    index = row - 2  # the header is row 1
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == index).then(pl.lit(value)).otherwise(pl.col(column))
                               .alias(column))
    path = tmp_path / "series.csv"
    frame.write_csv(path)
    with pytest.raises(SeriesError) as raised:
        import_series(path, tmp_path / "landing")
    assert [(v.file, v.row, v.column, v.rule, v.value) for v in raised.value.violations] == [
        (str(path), row, column, rule, value or None)
    ]
    assert f"{path}, row {row}, column {column!r}: {rule}" in str(raised.value)
    assert not (tmp_path / "landing").exists()  # nothing is written


def test_a_duplicate_month_a_changing_family_and_a_missing_column_are_refused(tmp_path):
    duplicate = write(tmp_path, "series_id,month,units\nA,2024-01-01,1\nA,2024-01-01,2\n", "dup.csv")
    with pytest.raises(SeriesError, match=r"row 3, column 'series_id, month': duplicate key \(series_id, month\)"):
        import_series(duplicate, tmp_path / "landing")
    families = write(tmp_path, "series_id,month,units,family\nA,2024-01-01,1,X\nA,2024-02-01,2,Y\n", "fam.csv")
    with pytest.raises(SeriesError, match=r"row 3, column 'family': a series keeps one family"):
        import_series(families, tmp_path / "landing")
    no_units = write(tmp_path, "series_id,month\nA,2024-01-01\n", "cols.csv")
    with pytest.raises(SeriesError, match=r"column 'units': missing required column"):
        import_series(no_units, tmp_path / "landing")


def test_another_file_in_a_written_folder_is_refused_rather_than_read_along(tmp_path):
    landing = tmp_path / "landing"
    (landing / "sales").mkdir(parents=True)
    (landing / "sales" / "old_export.csv").write_text("date,sku,channel,quantity,net_revenue\n")
    with pytest.raises(ValueError, match="old_export.csv"):
        import_series(write(tmp_path, SERIES_CSV), landing)


def test_the_cli_prints_what_it_wrote_and_exits_1_on_a_bad_file(tmp_path, capsys):
    source = write(tmp_path, SERIES_CSV)
    assert main(["import-series", str(source), "--out", str(tmp_path / "landing"), "--until", "2024-04"]) == 0
    out = capsys.readouterr().out
    assert "2 series" in out and "2024-01 to 2024-03" in out
    assert "sales                    3 rows" in out and "missing_months           2 rows" in out
    assert "forecast-only mode" in out and "sop run --cycle 2024-04" in out
    bad = write(tmp_path, "series_id,month,units\nA,2024-01-31,1\n", "bad.csv")
    assert main(["import-series", str(bad), "--out", str(tmp_path / "other")]) == 1
    assert "row 2, column 'month': must be the first day of a month" in capsys.readouterr().err


# (file name, contents, expected row, expected value, rule): files polars cannot read, and one without rows.
UNREADABLE_CASES = [
    ("empty.csv", b"", None, None, "file is empty: expected a header row with columns series_id, month, units"),
    ("header.csv", b"series_id,month,units\n", None, None, "file has no rows: expected one row per series and month"),
    ("extra.csv", b"series_id,month,units\nA,2024-01-01,1\nA,2024-02-01,2,9\n", 3, "A,2024-02-01,2,9",
     "row has more fields than the header"),
    ("quote.csv", b'series_id,month,units\nA,"2024-01-01,1\n', None, None, "not a readable CSV file"),
    ("corrupt.parquet", b"not a parquet file", None, None, "not a readable Parquet file"),
]


@pytest.mark.parametrize("name,contents,row,value,rule", UNREADABLE_CASES, ids=[c[0] for c in UNREADABLE_CASES])
def test_a_file_that_cannot_be_read_is_named_with_its_rule_and_nothing_is_written(tmp_path, capsys, name, contents,
                                                                                    row, value, rule):
    path = tmp_path / name
    path.write_bytes(contents)
    with pytest.raises(SeriesError) as raised:
        import_series(path, tmp_path / "landing")
    assert [(v.file, v.row, v.column, v.rule, v.value) for v in raised.value.violations] == [
        (str(path), row, "*", rule, value)
    ]
    assert main(["import-series", str(path), "--out", str(tmp_path / "landing")]) == 1
    where = f"{path}" + (f", row {row}" if row else "")
    assert f"  - {where}, column '*': {rule}" in capsys.readouterr().err
    assert not (tmp_path / "landing").exists()  # nothing is written
