"""Publishing for BI: a read-only DuckDB copy swapped in atomically, and Parquet files per cycle.

BI tools read only the published copy. It is built as a new file and renamed over the old one,
so a dashboard holding the old file open never blocks a run, and a failed run never leaves a
half-written copy where BI reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sop_pipeline.warehouse import connect, current_catalog, qualified, quote_ident


META_SCHEMA, META_TABLE = "meta", "publication"


def cycles_in(warehouse: Path, tables: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The distinct cycles each (schema, table) holds, for tables that carry a `cycle` column."""
    found = {}
    with connect(warehouse, read_only=True) as con:
        for schema, table in tables:
            has_cycle = con.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "AND column_name = 'cycle'",
                [schema, table],
            ).fetchall()[0][0]
            if has_cycle:
                rows = con.execute(f"SELECT DISTINCT CAST(cycle AS VARCHAR) FROM {qualified(schema, table)} ORDER BY 1")
                found[f"{schema}.{table}"] = [r[0] for r in rows.fetchall()]
    return found


def published_cycle(serving: Path) -> str | None:
    """The cycle the serving copy was published for, or None when there is no copy yet."""
    if not serving.exists():
        return None
    with connect(serving, read_only=True) as con:
        catalog = current_catalog(con)
        known = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
            "AND table_name = ?",
            [catalog, META_SCHEMA, META_TABLE],
        ).fetchall()[0][0]
        if not known:  # published by a version that did not record its cycle
            return None
        return con.execute(f"SELECT max(cycle) FROM {qualified(META_SCHEMA, META_TABLE, catalog)}").fetchall()[0][0]


def publish_serving_copy(
    warehouse: Path, serving: Path, tables: Iterable[tuple[str, str]], cycle: str
) -> list[tuple[str, str, int]]:
    """Copy (schema, table) pairs into a fresh DuckDB file and rename it over `serving`."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    staging_file = serving.with_name(f".{serving.name}.{os.getpid()}.tmp")
    staging_file.unlink(missing_ok=True)
    copied = []
    try:
        with connect(staging_file) as con:
            here = current_catalog(con)
            con.execute("ATTACH ? AS warehouse (READ_ONLY)", [str(warehouse)])
            for schema, table in tables:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(here)}.{quote_ident(schema)}")
                con.execute(f"CREATE TABLE {qualified(schema, table, here)} AS "
                            f"SELECT * FROM {qualified(schema, table, 'warehouse')}")
                rows = con.execute(f"SELECT count(*) FROM {qualified(schema, table, here)}").fetchall()[0][0]
                copied.append((schema, table, rows))
            con.execute("DETACH warehouse")
            con.execute(f"CREATE SCHEMA {quote_ident(here)}.{quote_ident(META_SCHEMA)}")
            con.execute(f"CREATE TABLE {qualified(META_SCHEMA, META_TABLE, here)} (cycle VARCHAR)")
            con.execute(f"INSERT INTO {qualified(META_SCHEMA, META_TABLE, here)} VALUES (?)", [cycle])
        os.replace(staging_file, serving)
    finally:
        staging_file.unlink(missing_ok=True)
    return copied


def export_parquet(warehouse: Path, folder: Path, tables: Iterable[tuple[str, str]], cycle: str) -> list[Path]:
    """Write each (schema, table) as `folder/<table>.parquet`, only the rows of `cycle` where the table
    carries one, replacing the folder's files as a whole."""
    tables = list(tables)
    with_cycle = cycles_in(warehouse, tables)
    staging_dir = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    staging_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with connect(warehouse, read_only=True) as con:
        for schema, table in tables:
            target = staging_dir / f"{table}.parquet"
            if f"{schema}.{table}" in with_cycle:
                con.execute(
                    f"COPY (SELECT * FROM {qualified(schema, table)} WHERE CAST(cycle AS VARCHAR) = ?) "
                    "TO ? (FORMAT parquet)",
                    [cycle, str(target)],
                )
            else:
                con.execute(f"COPY (SELECT * FROM {qualified(schema, table)}) TO ? (FORMAT parquet)", [str(target)])
            written.append(folder / target.name)
    old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
    if folder.exists():
        folder.rename(old)
    staging_dir.rename(folder)
    if old.exists():
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    return written
