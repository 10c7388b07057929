"""Read the landing folder and validate every data set against its contract, collecting all violations.

Three passes per file. A CSV file's raw text is checked first: it must be valid UTF-8 and every row
must have as many fields as the header (a cut-off last line has fewer; polars would fill it with
nulls silently), and a semicolon-delimited export is named as such; a file failing this pass is not
parsed further. Parsing then turns text cells into typed values and reports the cells that are
not a number or not a date. A pandera (polars) schema finally checks every value rule of the
contract on the typed frame: empty required cells, ranges, allowed values, unknown SKUs, future
dates, dates before the earliest input date, first-of-month dates and cross-column rules; rows
repeated across the files of a data set, exact repeats within an un-keyed one and duplicate keys are
found with polars. Every pass names the file, the row (as a spreadsheet shows it: the header is
row 1), the column, the rule and the value. A file that cannot be read at all (empty, corrupt) is a
violation too, on column '*', so a bad export never stops validation with a traceback.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from sop_pipeline.ingest.contract import (
    CASH_POSITION,
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
class EarliestDate:
    """The first day an input date may fall on: older dates are typos (a sale dated 1970 would stretch
    the calendar and change every plan). `history_years` only explains the rule to the user."""

    day: date
    history_years: int | None = None

    @property
    def rule(self) -> str:
        why = (f"SOP_HISTORY_YEARS={self.history_years} years before the cycle" if self.history_years is not None
               else "set by SOP_HISTORY_YEARS")
        return f"before the earliest date {self.day.isoformat()} ({why})"


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


def read_file_as_text(path: Path, display: str, data: bytes | None = None) -> pl.DataFrame:
    """Read one landing file with every column as text, plus its source file and row number.

    `data` is a CSV file's content when the caller has already read it (to check its raw text)."""
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
        # pandas writes dates as timestamps at midnight: keep their date.
        frame = frame.with_columns(pl.col(pl.Datetime).dt.date()).with_columns(pl.all().cast(pl.String))
        first_row = 1  # Parquet has no header row: rows count from 1
    else:
        # Strict UTF-8: a lossy read would turn a Latin-1 'ACC-Ä03' into 'ACC-�03', an SKU nobody wrote.
        frame = pl.read_csv(path if data is None else data, infer_schema=False)
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
COMMA_DECIMAL_RULE = "comma used as decimal separator: use a point (4.07, not 4,07)"
THOUSANDS_RULE = "comma used as thousands separator: write the number without it (1234.50, not 1,234.50)"
# '4,07' or ',5' is a European decimal; '1,234.50' is a thousands separator. A bare '1,234' is
# ambiguous and reads as a decimal: European exports are the usual source of commas in numbers.
_COMMA_DECIMAL = r"^[+-]?\d*,\d+$"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+\.\d*$"


def _type_rule(dtype: str, name: str) -> pl.Expr:
    """The rule a cell that does not parse breaks: for a number, say so when a comma is the reason."""
    rule = pl.lit(_TYPE_RULES[dtype])
    if dtype == DATE:
        return rule
    cell = pl.col(name)
    return (pl.when(cell.str.contains(_COMMA_DECIMAL)).then(pl.lit(COMMA_DECIMAL_RULE))
            .when(cell.str.contains(_THOUSANDS)).then(pl.lit(THOUSANDS_RULE))
            .otherwise(rule))


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
            Violation(f, r, column.name, rule, v)
            for f, r, v, rule in bad.select(SOURCE_FILE, SOURCE_ROW, column.name,
                                            _type_rule(column.dtype, column.name)).iter_rows()
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
    "scenario": "unknown scenario: not in the scenario file",
    "channel": "unknown channel: not a channel in sales",
}


def _column_checks(column, known: Mapping[str, list[str]], as_of: date, dataset: Dataset,
                   earliest: EarliestDate | None) -> list[pa.Check]:
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
    if earliest is not None and column.dtype == DATE and not column.may_predate_history:
        checks.append(pa.Check.ge(earliest.day, error=earliest.rule))
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
    CASH_POSITION.name: [
        ("negative opening cash beyond the credit line: opening_cash must be >= -credit_line", "opening_cash",
         lambda: pl.col("opening_cash") >= -pl.col("credit_line").fill_null(0.0)),
    ],
}


def _one_of_rule(columns: tuple[str, ...]) -> tuple[str, str, Callable[[], pl.Expr]]:
    filled = pl.sum_horizontal(pl.col(c).is_not_null().cast(pl.Int8) for c in columns)
    return f"exactly one of {' / '.join(columns)} must be filled", "/".join(columns), lambda: filled == 1


def build_schema(dataset: Dataset, known: Mapping[str, list[str]], as_of: date,
                 earliest: EarliestDate | None = None) -> tuple[pa.DataFrameSchema, dict]:
    """The pandera schema of a typed data set, and the column each frame-level rule reports on.

    `known` maps a reference kind (sku, family, supplier) to its known values; a kind that is
    absent is not checked (e.g. suppliers is an optional data set). Keys are checked apart
    (`duplicate_keys`), so that a row repeated from another file is not also a duplicate key."""
    columns = {
        c.name: pa.Column(POLARS_TYPES[c.dtype], checks=_column_checks(c, known, as_of, dataset, earliest),
                          nullable=c.nullable)
        for c in dataset.columns
    }
    rules = list(_CROSS_RULES.get(dataset.name, [])) + [_one_of_rule(cols) for cols in dataset.one_of]
    checks = [_row_check(rule, predicate) for rule, _, predicate in rules]
    report_on = {rule: column for rule, column, _ in rules}
    return pa.DataFrameSchema(columns, checks=checks, strict=False), report_on


def _key_label(dataset: Dataset) -> str:
    return ", ".join(dataset.key)


def _cell_text(text: pl.DataFrame, index: int, column: str) -> str | None:
    """The value as the user wrote it; for a rule over several columns, each column's value."""
    names = [c.strip() for c in re.split(r"[,/]", column)]
    if len(names) == 1:
        return text[column][index] if column in text.columns else None
    return ", ".join(f"{n}={text[n][index]}" for n in names if n in text.columns)


def check_rules(dataset: Dataset, typed: pl.DataFrame, text: pl.DataFrame, known: Mapping[str, list[str]],
                as_of: date, skip_cells: set[tuple[int, str]] = frozenset(),
                earliest: EarliestDate | None = None) -> list[Violation]:
    """Every value rule of the contract but the key on a typed frame (`text` holds the cells as written,
    row-aligned); cells in `skip_cells` already failed parsing and are not reported twice."""
    schema, report_on = build_schema(dataset, known, as_of, earliest)
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
        elif case["column"] is None and check in report_on:
            column, rule = report_on[check], check
        else:
            column, rule = case["column"], check
        if (index, column) in skip_cells:
            continue
        value = _cell_text(text, index, column) if index is not None else case["failure_case"]
        violations.append(Violation(file, row, column, rule, value))
    return violations


MORE_FIELDS_RULE = "row has more fields than the header"
FEWER_FIELDS_RULE = "row has fewer fields than the header"
UTF8_RULE = "not valid UTF-8 text (save the file as UTF-8)"
SEMICOLON_RULE = "looks semicolon-delimited: save as comma-separated"
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # where surrogateescape kept a byte that is not UTF-8


def _decode(data: bytes) -> tuple[str, bool]:
    """A CSV file's text, and whether it is valid UTF-8. Invalid bytes are kept as lone surrogates (never
    replaced by '�'), so that the row scan can name the cells that hold them."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", errors="surrogateescape"), False


def _as_written(text: str) -> str:
    """A cell or a line for a message, its bytes that are not UTF-8 shown as \\xNN escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _undecodable_cells(display: str, number: int, fields: list[str], header: list[str]) -> list[Violation]:
    """The cells of one row holding bytes that are not UTF-8, each on its column (the header's on '*')."""
    def column(i: int) -> str:
        return _as_written(header[i]).strip() if number > 1 and i < len(header) else "*"

    return [Violation(display, number, column(i), UTF8_RULE, _as_written(field))
            for i, field in enumerate(fields) if _UNDECODABLE.search(field)]


def _field_count_rule(count: int, width: int) -> str | None:
    if count == width or (count == 0 and width == 1):  # a blank line in a one-column file is one empty cell
        return None
    return MORE_FIELDS_RULE if count > width else FEWER_FIELDS_RULE


def scan_csv_rows(text: str, valid_utf8: bool, display: str) -> tuple[list[str], list[Violation]]:
    """The header of a CSV text, and the rows polars would misread: a row with more fields than the header
    (polars refuses the file without naming it), a row with fewer (polars fills it with nulls, silently: a
    cut-off last line) and, in a file that is not UTF-8, each cell holding an invalid byte.

    One streaming pass; rows are numbered as csv records, as polars and a spreadsheet number them (a
    blank line is a row, a quoted line break is not). With a quote never closed, field counts mean
    nothing (the open field swallows the line breaks): polars refuses such a file, which says so."""
    count_fields = text.count('"') % 2 == 0
    rows = csv.reader(io.StringIO(text, newline=""))
    violations: list[Violation] = []
    header: list[str] = []
    number = 0  # the last row read completely
    try:
        header = next(rows, [])
        number, width = 1, len(header)
        if not valid_utf8:
            violations += _undecodable_cells(display, 1, header, header)
        for number, fields in enumerate(rows, start=2):
            if len(fields) != width and count_fields and (rule := _field_count_rule(len(fields), width)):
                violations.append(Violation(display, number, "*", rule, _as_written(",".join(fields))))
            if not valid_utf8:
                violations += _undecodable_cells(display, number, fields, header)
    except csv.Error as error:  # e.g. a field over the csv module's size limit: a quote closed far too late
        violations.append(Violation(display, number + 1, "*", f"not a readable CSV row ({error})", None))
    return header, violations


def _looks_semicolon_delimited(header: list[str], dataset: Dataset) -> bool:
    """One header cell holding ';' and a required column missing: a spreadsheet's semicolon 'CSV'."""
    names = {h.strip() for h in header}
    missing = any(c.required and c.name not in names for c in dataset.columns)
    return len(header) == 1 and ";" in header[0] and missing


def check_csv_text(data: bytes, display: str, dataset: Dataset) -> list[Violation]:
    """The raw-text rules of one CSV file (encoding, delimiter, field counts); a file breaking any is not
    parsed further: its cells would be misread."""
    text, valid_utf8 = _decode(data)
    header, violations = scan_csv_rows(text, valid_utf8, display)
    if _looks_semicolon_delimited(header, dataset):
        # Every row then has the 'wrong' field count: the delimiter is the one problem to name.
        semicolon = Violation(display, None, "*", SEMICOLON_RULE, _as_written(header[0]))
        return [semicolon] + [v for v in violations if v.rule == UTF8_RULE]
    return violations


def _unreadable_file(path: Path, display: str, dataset: Dataset, error: pl.exceptions.PolarsError) -> list[Violation]:
    """Why polars could not read a file, in a planner's words."""
    if isinstance(error, pl.exceptions.NoDataError):
        required = ", ".join(c.name for c in dataset.columns if c.required)
        return [Violation(display, None, "*", f"file is empty: expected a header row with columns {required}", None)]
    if path.suffix.lower() == ".parquet":
        return [Violation(display, None, "*", "not a readable Parquet file", None)]
    return [Violation(display, None, "*", "not a readable CSV file", None)]


def read_dataset_file(path: Path, display: str, dataset: Dataset) -> tuple[pl.DataFrame | None, list[Violation]]:
    """One file of a data set as text, keeping the contract's columns; None, with its violations, when
    the file cannot be read, its raw text breaks a rule (a CSV file) or a required column is missing."""
    data = None
    try:
        if path.suffix.lower() != ".parquet":
            data = path.read_bytes()  # read once: checked as text, then parsed by polars
            problems = check_csv_text(data, display, dataset)
            if problems:
                return None, problems
        text = read_file_as_text(path, display, data)
    except pl.exceptions.PolarsError as error:
        return None, _unreadable_file(path, display, dataset, error)
    missing = [c.name for c in dataset.columns if c.required and c.name not in text.columns]
    if missing:
        return None, [Violation(display, None, m, "missing required column", None) for m in missing]
    return text.select([c for c in text.columns if c in raw_columns(dataset)]), []


def _row_text(columns: list[str]) -> pl.Expr:
    """A row as written, for a message: its cells joined by commas."""
    return pl.concat_str([pl.col(c).fill_null("") for c in columns], separator=",")


def _comparable(typed: pl.DataFrame, text: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Cells as values, not spellings ('3' and '3.0' are one quantity, as in a Parquet copy of a CSV
    export), in columns named `_same_<column>`; a cell that did not parse keeps its text, so two
    different typos never look equal."""
    return pl.DataFrame([typed[c].cast(pl.String).fill_null(text[c]).alias(f"_same_{c}") for c in columns])


def repeated_rows(dataset: Dataset, typed: pl.DataFrame, text: pl.DataFrame) -> tuple[list[Violation], pl.Series]:
    """Rows equal, cell for cell, to another row of the data set; and the mask of rows copied from another file.

    A row first seen in an earlier file (in name order) is a copy of it, e.g. `sales (1).csv` next to
    `sales.csv`: loading both would double the actuals, so the violation names both files. Within one
    file, each group of exact repeats is one violation with its count, in a data set without a key
    only: in a keyed one the repeats are duplicate keys, reported row by row already."""
    names = [c for c in dataset.column_names if c in text.columns]
    cells = _comparable(typed, text, names)
    copied = pl.repeat(False, text.height, dtype=pl.Boolean, eager=True)
    # One cheap pass finds the repeated rows; the grouping below then runs on them alone (usually none).
    repeated = pl.concat([text, cells], how="horizontal").with_row_index("_index").filter(cells.is_duplicated())
    if repeated.is_empty():
        return [], copied
    first = repeated.select(pl.col("_index").min().over(cells.columns))["_index"]  # one window: 3x faster than two
    repeated = repeated.with_columns(
        text[SOURCE_FILE].gather(first).alias("_first_file"), text[SOURCE_ROW].gather(first).alias("_first_row"),
        _row_text(names).alias("_as_written"))
    copies = repeated.filter(pl.col("_first_file") != pl.col(SOURCE_FILE))
    elsewhere = f"row repeated in another file of {dataset.name}/"
    violations = [
        Violation(file, row, "*", f"{elsewhere}: {first_file} row {first_row}", value)
        for file, row, first_file, first_row, value
        in copies.select(SOURCE_FILE, SOURCE_ROW, "_first_file", "_first_row", "_as_written").iter_rows()
    ]
    if not dataset.key:
        groups = (
            repeated.filter(pl.col("_first_file") == pl.col(SOURCE_FILE))
            .group_by(SOURCE_FILE, *cells.columns)
            .agg(pl.col(SOURCE_ROW).min(), pl.len().alias("_times"), pl.col("_as_written").first())
            .filter(pl.col("_times") > 1)
        )
        violations += [
            Violation(file, row, "*", f"row repeated {times} times in this file", value)
            for file, row, times, value in groups.select(SOURCE_FILE, SOURCE_ROW, "_times", "_as_written").iter_rows()
        ]
    return violations, copied.scatter(copies["_index"], True)


def _key_value(dataset: Dataset) -> pl.Expr:
    """The key as written: the cell of a one-column key, 'name=value' pairs of a composite one."""
    if len(dataset.key) == 1:
        return pl.col(dataset.key[0])
    pairs = [pl.concat_str(pl.lit(f"{name}="), pl.col(name).fill_null("None")) for name in dataset.key]
    return pl.concat_str(pairs, separator=", ")


def duplicate_keys(dataset: Dataset, typed: pl.DataFrame, text: pl.DataFrame, copied: pl.Series) -> list[Violation]:
    """Every row sharing its (typed) key with another; rows copied from another file are reported as
    repeats instead, so that one copy is one violation, not two."""
    if not dataset.key:
        return []
    key = list(dataset.key)
    column = key[0] if len(key) == 1 else _key_label(dataset)
    rule = f"duplicate key ({_key_label(dataset)})"
    kept = typed.select(SOURCE_FILE, SOURCE_ROW, *key).with_columns(text.select(_key_value(dataset).alias("_value")))
    kept = kept.filter(~copied)
    duplicated = kept.filter(kept.select(key).is_duplicated())
    return [Violation(file, row, column, rule, value)
            for file, row, value in duplicated.select(SOURCE_FILE, SOURCE_ROW, "_value").iter_rows()]


def load_dataset(data_dir: Path, dataset: Dataset, known: Mapping[str, list[str]], as_of: date,
                 earliest: EarliestDate | None = None) -> tuple[pl.DataFrame, list[Violation]]:
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
    typed, errors = validate_text(dataset, pl.concat(texts, how="diagonal"), known, as_of, earliest)
    return typed, violations + errors


def validate_text(dataset: Dataset, text: pl.DataFrame, known: Mapping[str, list[str]],
                  as_of: date, earliest: EarliestDate | None = None) -> tuple[pl.DataFrame, list[Violation]]:
    """Parse and check the cells of a data set read as text (`read_file_as_text`, the required columns
    present, files in name order): the typed frame and every violation, each cell reported once."""
    typed, parse_errors = parse_types(dataset, text)
    rows_by_origin = {(f, r): i for i, (f, r) in enumerate(typed.select(SOURCE_FILE, SOURCE_ROW).iter_rows())}
    skip = {(rows_by_origin[(v.file, v.row)], v.column) for v in parse_errors}
    repeats, copied = repeated_rows(dataset, typed, text)
    rules = check_rules(dataset, typed, text, known, as_of, skip, earliest)
    return typed, parse_errors + rules + repeats + duplicate_keys(dataset, typed, text, copied)


def _known_values(frames: Mapping[str, pl.DataFrame]) -> dict[str, list[str]]:
    """Known SKUs, families and suppliers, from the data sets already loaded (an empty one defines none)."""
    known = {}
    for kind, (name, column) in REFERENCE_SOURCES.items():
        frame = frames.get(name)
        if frame is not None and frame.height:
            known[kind] = frame[column].drop_nulls().unique().sort().to_list()
    return known


def load_inputs(data_dir: Path, as_of: date, earliest: date | None = None,
                history_years: int | None = None, scenarios: Sequence[str] | None = None) -> IngestResult:
    """Validate every data set of the landing folder against the contract and each other.

    `earliest` is the first day an input date may fall on (`SopConfig.earliest_date` of the cycle;
    None: no lower bound); `history_years` only explains that rule. Referenced data sets load first
    (suppliers, then products), so later ones are checked against them. `scenarios`: the names of the scenario
    file, which an approval must name (None: not checked here)."""
    bound = EarliestDate(earliest, history_years) if earliest is not None else None
    by_name = {d.name: d for d in DATASETS}
    order = [by_name["suppliers"], by_name["products"]] + [d for d in DATASETS if d.name not in ("suppliers", "products")]
    loaded: dict[str, pl.DataFrame] = {}
    violations: list[Violation] = []
    for dataset in order:
        known = _known_values(loaded) | ({"scenario": sorted(scenarios)} if scenarios is not None else {})
        loaded[dataset.name], errors = load_dataset(data_dir, dataset, known, as_of, bound)
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
