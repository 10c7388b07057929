"""Read the landing folder and validate every data set against its contract, collecting all violations.

Two passes per file. Parsing turns text cells into typed values and reports the cells that are
not a number or not a date. A pandera (polars) schema then checks every value rule of the
contract on the typed frame: empty required cells, ranges, allowed values, duplicate keys,
unknown SKUs, future dates, first-of-month dates and cross-column rules. Both passes name the
file, the row (as a spreadsheet shows it: the header is row 1), the column, the rule and the value.
A file that cannot be read at all (empty, a row wider than the header, corrupt) is a violation too, on
column '*', so a bad export never stops validation with a traceback.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from sop_pipeline.ingest.contract import (
    DATASETS,
    DATE,
    EVENTS,
    FLOAT,
    INT,
    PRODUCTS,
    PURCHASE_ORDERS,
    REFERENCE_SOURCES,
    Dataset,
)
from sop_pipeline.warehouse import POLARS_TYPES, SOURCE_FILE, SOURCE_ROW, raw_columns

READABLE_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule in one cell (or one file, when row is None)."""

    file: str
    row: int | None
    column: str
    rule: str
    value: str | None

    def message(self) -> str:
        where = f"{self.file}" + (f", row {self.row}" if self.row is not None else "")
        got = "" if self.value is None else f" (value: {self.value!r})"
        return f"{where}, column {self.column!r}: {self.rule}{got}"

    def as_row(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "rule": self.rule, "value": self.value}


@dataclass(frozen=True)
class IngestResult:
    frames: dict[Dataset, pl.DataFrame]  # typed frames in raw-table layout, one per data set
    violations: list[Violation]

    @property
    def ok(self) -> bool:
        return not self.violations


def landing_files(data_dir: Path, dataset: Dataset) -> list[Path]:
    """The files of one data set: every CSV or Parquet file in its folder, in name order."""
    folder = data_dir / dataset.name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in READABLE_SUFFIXES and p.is_file())


def _display_path(path: Path, data_dir: Path) -> str:
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path)


def read_file_as_text(path: Path, display: str) -> pl.DataFrame:
    """Read one landing file with every column as text, plus its source file and row number."""
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
        # pandas writes dates as timestamps at midnight: keep their date.
        frame = frame.with_columns(pl.col(pl.Datetime).dt.date()).with_columns(pl.all().cast(pl.String))
        first_row = 1  # Parquet has no header row: rows count from 1
    else:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
        first_row = 2  # the header is row 1, as in a spreadsheet
    frame = frame.rename({c: c.strip() for c in frame.columns})
    frame = frame.with_columns(pl.col(c).str.strip_chars() for c in frame.columns)
    frame = frame.with_columns(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns)
    return frame.with_columns(
        pl.lit(display).alias(SOURCE_FILE),
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_row).alias(SOURCE_ROW),
    )


def _parse_expr(dtype: str, name: str) -> pl.Expr:
    text = pl.col(name)
    if dtype == DATE:
        return text.str.to_date("%Y-%m-%d", strict=False)
    if dtype in (INT, FLOAT):
        parsed = text.str.replace_all(r"^\+", "").cast(pl.Float64, strict=False)
        number = pl.when(parsed.is_finite()).then(parsed)  # 'inf' and 'NaN' are not quantities
        if dtype == INT:
            return pl.when(number == number.round(0)).then(number).otherwise(None).cast(pl.Int64, strict=False)
        return number
    return text


_TYPE_RULES = {
    DATE: "unparsable date: expected YYYY-MM-DD",
    INT: "wrong type: expected a whole number",
    FLOAT: "wrong type: expected a (finite) number",
}


def parse_types(dataset: Dataset, text: pl.DataFrame) -> tuple[pl.DataFrame, list[Violation]]:
    """Cast text columns to the contract's types; a filled cell that does not parse is a violation."""
    present = [c for c in dataset.columns if c.name in text.columns]
    typed = text.with_columns(_parse_expr(c.dtype, c.name).alias(c.name) for c in present)
    violations: list[Violation] = []
    for column in present:
        if column.dtype not in _TYPE_RULES:
            continue
        bad = text.filter(pl.col(column.name).is_not_null() & typed[column.name].is_null())
        violations += [
            Violation(f, r, column.name, _TYPE_RULES[column.dtype], v)
            for f, r, v in bad.select(SOURCE_FILE, SOURCE_ROW, column.name).iter_rows()
        ]
    missing_optional = [c for c in dataset.columns if c.name not in text.columns]
    typed = typed.with_columns(pl.lit(None, dtype=POLARS_TYPES[c.dtype]).alias(c.name) for c in missing_optional)
    return typed.select(list(raw_columns(dataset))), violations


def _row_check(name: str, predicate: Callable[[], pl.Expr]) -> pa.Check:
    """A frame-level check that passes or fails row by row; `name` is the rule shown to the user."""
    return pa.Check(lambda data: data.lazyframe.select(predicate().fill_null(True)), name=name)


def _first_of_month(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select((pl.col(data.key).dt.day() == 1) | pl.col(data.key).is_null())


_REFERENCE_RULES = {
    "sku": "unknown SKU: not in products",
    "family": "unknown family: not in products",
    "supplier": "unknown supplier: not in suppliers",
}


def _column_checks(column, known: Mapping[str, list[str]], as_of: date, dataset: Dataset) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column.min_value is not None:
        checks.append(pa.Check.ge(column.min_value, error=f"must be >= {column.min_value:g}"))
    if column.max_value is not None:
        checks.append(pa.Check.le(column.max_value, error=f"must be <= {column.max_value:g}"))
    if column.allowed is not None:
        checks.append(pa.Check.isin(list(column.allowed), error=f"must be one of {', '.join(column.allowed)}"))
    if column.first_of_month:
        checks.append(pa.Check(_first_of_month, error="must be the first day of a month"))
    if column.name in dataset.not_after_as_of:
        checks.append(pa.Check.le(as_of, error=f"future-dated: after the data's as-of date {as_of.isoformat()}"))
    for referencing, kind in dataset.references:
        if referencing == column.name and kind in known:
            checks.append(pa.Check.isin(known[kind], error=_REFERENCE_RULES[kind]))
    return checks


# Cross-column rules, per data set: (rule shown to the user, column it is reported on, predicate).
_CROSS_RULES: dict[str, list[tuple[str, str, Callable[[], pl.Expr]]]] = {
    PRODUCTS.name: [
        ("discontinue_date must not be before launch_date", "discontinue_date",
         lambda: pl.col("discontinue_date") >= pl.col("launch_date")),
        ("a discontinued SKU needs its discontinue_date", "discontinue_date",
         lambda: (pl.col("status") != "discontinued") | pl.col("discontinue_date").is_not_null()),
    ],
    PURCHASE_ORDERS.name: [
        ("received_quantity must not exceed quantity", "received_quantity",
         lambda: pl.col("received_quantity") <= pl.col("quantity")),
        ("expected_date must not be before order_date", "expected_date",
         lambda: pl.col("expected_date") >= pl.col("order_date")),
        ("received_date must not be before order_date", "received_date",
         lambda: pl.col("received_date") >= pl.col("order_date")),
    ],
    EVENTS.name: [
        ("end_date must not be before start_date", "end_date", lambda: pl.col("end_date") >= pl.col("start_date")),
    ],
}


def _one_of_rule(columns: tuple[str, ...]) -> tuple[str, str, Callable[[], pl.Expr]]:
    filled = pl.sum_horizontal(pl.col(c).is_not_null().cast(pl.Int8) for c in columns)
    return f"exactly one of {' / '.join(columns)} must be filled", "/".join(columns), lambda: filled == 1


def build_schema(dataset: Dataset, known: Mapping[str, list[str]], as_of: date) -> tuple[pa.DataFrameSchema, dict]:
    """The pandera schema of a typed data set, and the column each frame-level rule reports on.

    `known` maps a reference kind (sku, family, supplier) to its known values; a kind that is
    absent is not checked (e.g. suppliers is an optional data set)."""
    columns = {
        c.name: pa.Column(POLARS_TYPES[c.dtype], checks=_column_checks(c, known, as_of, dataset), nullable=c.nullable)
        for c in dataset.columns
    }
    rules = list(_CROSS_RULES.get(dataset.name, [])) + [_one_of_rule(cols) for cols in dataset.one_of]
    checks = [_row_check(rule, predicate) for rule, _, predicate in rules]
    report_on = {rule: column for rule, column, _ in rules}
    unique = list(dataset.key) or None
    return pa.DataFrameSchema(columns, checks=checks, unique=unique, strict=False), report_on


def _key_label(dataset: Dataset) -> str:
    return ", ".join(dataset.key)


def _cell_text(text: pl.DataFrame, index: int, column: str) -> str | None:
    """The value as the user wrote it; for a rule over several columns, each column's value."""
    names = [c.strip() for c in re.split(r"[,/]", column)]
    if len(names) == 1:
        return text[column][index] if column in text.columns else None
    return ", ".join(f"{n}={text[n][index]}" for n in names if n in text.columns)


def check_rules(dataset: Dataset, typed: pl.DataFrame, text: pl.DataFrame, known: Mapping[str, list[str]],
                as_of: date, skip_cells: set[tuple[int, str]] = frozenset()) -> list[Violation]:
    """Every value rule of the contract on a typed frame (`text` holds the cells as written, row-aligned);
    cells in `skip_cells` already failed parsing and are not reported twice."""
    schema, report_on = build_schema(dataset, known, as_of)
    indexed = typed.drop(SOURCE_FILE, SOURCE_ROW)
    try:
        schema.validate(indexed, lazy=True)  # an eager DataFrame: pandera checks data, not only the schema
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    origin = typed.select(SOURCE_FILE, SOURCE_ROW)
    violations = []
    for case in cases.iter_rows(named=True):
        index, check = case["index"], str(case["check"])
        file, row = origin.row(index) if index is not None else (dataset.name, None)
        if check == "not_nullable":
            column, rule = case["column"], "required value is empty"
        elif check == "multiple_fields_uniqueness" or check == "field_uniqueness":
            column, rule = case["column"] or _key_label(dataset), f"duplicate key ({_key_label(dataset)})"
        elif case["column"] is None and check in report_on:
            column, rule = report_on[check], check
        else:
            column, rule = case["column"], check
        if (index, column) in skip_cells:
            continue
        value = _cell_text(text, index, column) if index is not None else case["failure_case"]
        violations.append(Violation(file, row, column, rule, value))
    return violations


def _rows_with_extra_fields(path: Path, display: str) -> list[Violation]:
    """The rows of a CSV with more fields than its header: polars refuses the file without naming them."""
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            rows = csv.reader(handle)
            width = len(next(rows, []))
            return [
                Violation(display, number, "*", "row has more fields than the header", ",".join(fields))
                for number, fields in enumerate(rows, start=2)  # the header is row 1; a blank line is a row too
                if len(fields) > width
            ]
    except csv.Error:  # e.g. a field over the csv module's size limit: the file-level violation stands
        return []


def _unreadable_file(path: Path, display: str, dataset: Dataset, error: pl.exceptions.PolarsError) -> list[Violation]:
    """Why polars could not read a file, in a planner's words; the row is named only when it is known."""
    if isinstance(error, pl.exceptions.NoDataError):
        required = ", ".join(c.name for c in dataset.columns if c.required)
        return [Violation(display, None, "*", f"file is empty: expected a header row with columns {required}", None)]
    if path.suffix.lower() == ".parquet":
        return [Violation(display, None, "*", "not a readable Parquet file", None)]
    return _rows_with_extra_fields(path, display) or [Violation(display, None, "*", "not a readable CSV file", None)]


def read_dataset_file(path: Path, display: str, dataset: Dataset) -> tuple[pl.DataFrame | None, list[Violation]]:
    """One file of a data set as text, keeping the contract's columns; None, with its violations, when
    the file cannot be read or a required column is missing."""
    try:
        text = read_file_as_text(path, display)
    except pl.exceptions.PolarsError as error:
        return None, _unreadable_file(path, display, dataset, error)
    missing = [c.name for c in dataset.columns if c.required and c.name not in text.columns]
    if missing:
        return None, [Violation(display, None, m, "missing required column", None) for m in missing]
    return text.select([c for c in text.columns if c in raw_columns(dataset)]), []


def load_dataset(data_dir: Path, dataset: Dataset, known: Mapping[str, list[str]], as_of: date) -> tuple[pl.DataFrame, list[Violation]]:
    """Read, parse and validate every file of one data set; an absent optional data set is empty."""
    files = landing_files(data_dir, dataset)
    empty = pl.DataFrame(schema=raw_columns(dataset))
    if not files:
        if dataset.optional:
            return empty, []
        folder = f"{dataset.name}/"
        return empty, [Violation(folder, None, "*", "required data set is missing: no CSV or Parquet file", None)]
    texts, violations = [], []
    for path in files:
        text, missing = read_dataset_file(path, _display_path(path, data_dir), dataset)
        violations += missing
        if text is not None:
            texts.append(text)
    if not texts:
        return empty, violations
    typed, errors = validate_text(dataset, pl.concat(texts, how="diagonal"), known, as_of)
    return typed, violations + errors


def validate_text(dataset: Dataset, text: pl.DataFrame, known: Mapping[str, list[str]],
                  as_of: date) -> tuple[pl.DataFrame, list[Violation]]:
    """Parse and check the cells of a data set read as text (`read_file_as_text`, the required columns
    present): the typed frame and every violation, each cell reported once."""
    typed, parse_errors = parse_types(dataset, text)
    rows_by_origin = {(f, r): i for i, (f, r) in enumerate(typed.select(SOURCE_FILE, SOURCE_ROW).iter_rows())}
    skip = {(rows_by_origin[(v.file, v.row)], v.column) for v in parse_errors}
    return typed, parse_errors + check_rules(dataset, typed, text, known, as_of, skip)


def _known_values(frames: Mapping[str, pl.DataFrame]) -> dict[str, list[str]]:
    """Known SKUs, families and suppliers, from the data sets already loaded (an empty one defines none)."""
    known = {}
    for kind, (name, column) in REFERENCE_SOURCES.items():
        frame = frames.get(name)
        if frame is not None and frame.height:
            known[kind] = frame[column].drop_nulls().unique().sort().to_list()
    return known


def load_inputs(data_dir: Path, as_of: date) -> IngestResult:
    """Validate every data set of the landing folder against the contract and each other.

    Referenced data sets load first (suppliers, then products), so later ones are checked against them."""
    by_name = {d.name: d for d in DATASETS}
    order = [by_name["suppliers"], by_name["products"]] + [d for d in DATASETS if d.name not in ("suppliers", "products")]
    loaded: dict[str, pl.DataFrame] = {}
    violations: list[Violation] = []
    for dataset in order:
        loaded[dataset.name], errors = load_dataset(data_dir, dataset, _known_values(loaded), as_of)
        violations += errors
    frames = {d: loaded[d.name] for d in DATASETS}
    return IngestResult(frames, sorted(violations, key=lambda v: (v.file, v.row or 0, v.column, v.rule)))


def violations_frame(violations: list[Violation]) -> pl.DataFrame:
    return pl.DataFrame(
        [v.as_row() for v in violations],
        schema={"file": pl.String, "row": pl.Int64, "column": pl.String, "rule": pl.String, "value": pl.String},
    )


def summarise(violations: list[Violation], limit: int = 20) -> str:
    """The run's failure message: one line per file, column and rule, with its rows and an example value."""
    groups: dict[tuple[str, str, str], list[Violation]] = {}
    for v in violations:
        groups.setdefault((v.file, v.column, v.rule), []).append(v)
    lines = [f"{len(violations)} input violation(s) of {len(groups)} kind(s); nothing downstream was run or published:"]
    for (file, column, rule), members in list(groups.items())[:limit]:
        rows = [v.row for v in members if v.row is not None]
        shown = ", ".join(str(r) for r in rows[:5]) + (", …" if len(rows) > 5 else "")
        where = f"{file}, row{'s' if len(rows) > 1 else ''} {shown}" if rows else file
        example = next((v.value for v in members if v.value is not None), None)
        got = "" if example is None else f" (value: {example!r}{', …' if len(members) > 1 else ''})"
        lines.append(f"  - {where}, column {column!r}: {rule}{got}")
    if len(groups) > limit:
        lines.append(f"  … and {len(groups) - limit} more kinds (see the data-quality table)")
    return "\n".join(lines)
