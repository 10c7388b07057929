"""The embedded DuckDB warehouse: raw-table layout, safe identifiers and atomic writes.

Connections are opened by the caller when work starts, never at import time. Values always
travel as parameters or Arrow frames; identifiers only through `quote_ident`, after an
allowlist check, so no user data is ever formatted into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from sop_pipeline.ingest.contract import DATE, FLOAT, INT, STR, Dataset

RAW_SCHEMA = "raw"
SOURCE_FILE, SOURCE_ROW = "_source_file", "_source_row"

_DUCKDB_TYPES = {STR: "VARCHAR", INT: "BIGINT", FLOAT: "DOUBLE", DATE: "DATE"}
POLARS_TYPES = {STR: pl.String, INT: pl.Int64, FLOAT: pl.Float64, DATE: pl.Date}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Quote one identifier after checking it is a plain name (letters, digits, underscore)."""
    if not _IDENT.match(name):
        raise ValueError(f"not an allowed SQL identifier: {name!r}")
    return '"' + name + '"'


def quote_literal(text: str) -> str:
    """A SQL string literal, for the few statements that take no parameter (COMMENT ON). Only for the
    project's own text (documentation), never for user data."""
    if "\x00" in text:
        raise ValueError("a SQL literal cannot hold a NUL character")
    return "'" + text.replace("'", "''") + "'"


def qualified(schema: str, table: str, catalog: str | None = None) -> str:
    """schema.table, or catalog.schema.table: a file named sop.duckdb is catalog `sop`, which would
    make `sop.forecast` ambiguous next to the schema `sop`."""
    name = f"{quote_ident(schema)}.{quote_ident(table)}"
    return f"{quote_ident(catalog)}.{name}" if catalog else name


def current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_database()").fetchall()[0][0]


def raw_columns(dataset: Dataset) -> dict[str, pl.DataType]:
    """Column name → polars type of the raw table that holds a validated data set."""
    cols = {c.name: POLARS_TYPES[c.dtype] for c in dataset.columns}
    cols[SOURCE_FILE] = pl.String
    cols[SOURCE_ROW] = pl.Int64
    return cols


def raw_table_ddl(dataset: Dataset) -> str:
    """CREATE OR REPLACE statement of the raw table of a data set (every contract column)."""
    cols = [f"{quote_ident(c.name)} {_DUCKDB_TYPES[c.dtype]}" for c in dataset.columns]
    cols += [f"{quote_ident(SOURCE_FILE)} VARCHAR", f"{quote_ident(SOURCE_ROW)} BIGINT"]
    return f"CREATE OR REPLACE TABLE {qualified(RAW_SCHEMA, dataset.name)} ({', '.join(cols)})"


@contextmanager
def connect(path: Path, read_only: bool = False):
    """Open the warehouse file for the duration of a block and always close it."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def replace_raw_tables(con: duckdb.DuckDBPyConnection, frames: Mapping[Dataset, pl.DataFrame]) -> None:
    """Replace every raw table in one transaction: either all new tables are visible or none."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(RAW_SCHEMA)}")
        for dataset, frame in frames.items():
            con.execute(raw_table_ddl(dataset))
            if frame.height:
                con.register("_incoming", frame.select(list(raw_columns(dataset))).to_arrow())
                con.execute(f"INSERT INTO {qualified(RAW_SCHEMA, dataset.name)} SELECT * FROM _incoming")
                con.unregister("_incoming")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Column names of a table of the current catalog, in order; empty when it does not exist."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return [name for (name,) in rows]


def ensure_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, incoming: str) -> None:
    """Create `schema.table` shaped like the registered view `incoming`, or, when a newer release added
    columns, widen it: earlier cycles keep their rows, with nulls in the new columns."""
    target = qualified(schema, table)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    existing = table_columns(con, schema, table)
    if not existing:
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM {quote_ident(incoming)} LIMIT 0")
        return
    wanted = [name for (name, *_rest) in con.execute(f"DESCRIBE SELECT * FROM {quote_ident(incoming)}").fetchall()]
    if set(wanted) - set(existing):
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {target} "
            f"UNION ALL BY NAME (SELECT * FROM {quote_ident(incoming)} LIMIT 0)"
        )


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    frame: pl.DataFrame,
    before: tuple[str, list] | None = None,
) -> None:
    """Insert `frame` by column name in one transaction, creating or widening the table first; `before` is a
    statement (with `{table}` for the target) and its parameters, run in the same transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        _insert(con, schema, table, frame, before)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _insert(con: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame,
            before: tuple[str, list] | None) -> None:
    target = qualified(schema, table)
    con.register("_incoming", frame.to_arrow())
    ensure_table(con, schema, table, "_incoming")
    if before is not None:
        con.execute(before[0].format(table=target), before[1])
    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _incoming")
    con.unregister("_incoming")


def replace_cycle_rows(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, cycle: str, frame: pl.DataFrame
) -> None:
    """Replace one cycle's rows of a cycle-keyed table in one transaction, creating the table on first use."""
    insert_rows(con, schema, table, frame, before=("DELETE FROM {table} WHERE cycle = ?", [cycle]))


def write_cycle_tables(
    con: duckdb.DuckDBPyConnection, schema: str, cycle: date, tables: Mapping[str, pl.DataFrame],
    between: Callable[[], None] | None = None,
) -> None:
    """Replace `cycle`'s rows of each `schema.<name>` with its frame, all in one transaction: a stage's tables
    change together or not at all. A frame without a `cycle` column gets one, first. `between` runs after
    each table but the last (a fault point: a kill there must leave every table as it was)."""
    names = list(tables)
    con.execute("BEGIN TRANSACTION")
    try:
        for index, name in enumerate(names):
            frame = tables[name]
            if "cycle" not in frame.columns:
                frame = frame.select(pl.lit(cycle).alias("cycle"), pl.all())
            _insert(con, schema, name, frame, ("DELETE FROM {table} WHERE cycle = ?", [cycle]))
            if between is not None and index < len(names) - 1:
                between()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def row_counts(con: duckdb.DuckDBPyConnection, schemas: Iterable[str]) -> list[tuple[str, str, int]]:
    """(schema, table, rows) of every table and view in the given schemas, sorted."""
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema IN (SELECT unnest(?)) ORDER BY 1, 2",
        [list(schemas)],
    ).fetchall()
    catalog = current_catalog(con)
    return [
        (schema, table, con.execute(f"SELECT count(*) FROM {qualified(schema, table, catalog)}").fetchall()[0][0])
        for schema, table in tables
    ]


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable = ()) -> pl.DataFrame:
    """Run a parameterised query and return its result as a polars frame."""
    return pl.from_arrow(con.sql(sql, params=list(params)).to_arrow_table())
