"""Publishing for BI (SPEC §11): a read-only DuckDB copy and the cycle's Parquet exports, switched together.

A publication is staged beside the published files, a journal naming both switches is written, and only then
are the staged files renamed into place; a kill after the journal is completed by the next run (`recover`).
Design notes: docs/operations.md, *Preflight, crashes and recovery*.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sop_pipeline.faults import fault_point
from sop_pipeline.warehouse import connect, current_catalog, qualified, quote_ident, quote_literal

META_SCHEMA, META_TABLE = "meta", "publication"
SERVING_FILE = "sop_bi.duckdb"
LEGACY_SERVING_FILE = "sop.duckdb"  # the name before 0.2: its catalog clashed with the schema `sop`
JOURNAL = ".publish.journal"
STAGED, OLD = ".staged", ".old"

# (description, columns) of every table a BI user may read; the registry of sop.* lives in outputs.py and
# the marts' in dbt's .yml files, this is the publication's own table.
PUBLICATION_DOC = (
    "One row per published table: what this copy holds. `cycle` is the newest cycle published; the table's "
    "rows of that cycle are also in exports/cycle=<cycle>/<table>.parquet.",
    {
        "cycle": "The cycle this copy was published for (first day of its month).",
        "schema_name": "Schema of the published table (`marts` or `sop`).",
        "table_name": "Name of the published table.",
        "rows": "Rows of the table in this copy (every cycle kept, for tables of schema `sop`).",
        "cycle_rows": "Rows of the table that belong to `cycle`: the rows of its Parquet export.",
    },
)

Docs = Mapping[tuple[str, str], tuple[str, Mapping[str, str]]]


@dataclass(frozen=True)
class Publication:
    cycle: str
    exports: Path  # exports/cycle=<cycle>
    serving: Path | None  # the BI copy, or None when a newer cycle keeps it (a backfill)
    tables: list[tuple[str, str, int, int]]  # schema, table, rows, rows of the cycle


def cycles_in(warehouse: Path, tables: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The distinct cycles each (schema, table) holds, for tables that carry a `cycle` column."""
    found = {}
    with connect(warehouse, read_only=True) as con:
        for schema, table in tables:
            if _has_cycle(con, schema, table):
                rows = con.execute(f"SELECT DISTINCT CAST(cycle AS VARCHAR) FROM {qualified(schema, table)} ORDER BY 1")
                found[f"{schema}.{table}"] = [r[0] for r in rows.fetchall()]
    return found


def _has_cycle(con, schema: str, table: str, catalog: str | None = None) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_catalog = coalesce(?, current_database()) "
        "AND table_schema = ? AND table_name = ? AND column_name = 'cycle'",
        [catalog, schema, table],
    ).fetchall()[0][0])


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


def _staged(path: Path) -> Path:
    return path.with_name(f".{path.name}{STAGED}")


def _old(path: Path) -> Path:
    return path.with_name(f".{path.name}{OLD}")


def _comment(con, kind: str, target: str, text: str) -> None:
    # COMMENT takes no parameter; the text is the project's own documentation (outputs.py, dbt's .yml files),
    # never user data, and goes in as a quoted literal.
    con.execute(f"COMMENT ON {kind} {target} IS {quote_literal(text)}")


def _document(con, catalog: str, schema: str, table: str, docs: Docs) -> None:
    description, columns = docs.get((schema, table), ("", {}))
    target = qualified(schema, table, catalog)
    if description:
        _comment(con, "TABLE", target, description)
    present = {name for (name,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
        "AND table_name = ?", [catalog, schema, table]).fetchall()}
    for column, text in columns.items():
        if column in present and text:
            _comment(con, "COLUMN", f"{target}.{quote_ident(column)}", text)


def stage_serving_copy(
    warehouse: Path, staged: Path, tables: Iterable[tuple[str, str]], cycle: str, docs: Docs
) -> list[tuple[str, str, int, int]]:
    """Copy (schema, table) pairs into a new DuckDB file, documented, with its publication record."""
    staged.unlink(missing_ok=True)
    copied = []
    with connect(staged) as con:
        here = current_catalog(con)
        con.execute("ATTACH ? AS warehouse (READ_ONLY)", [str(warehouse)])
        for schema, table in tables:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(here)}.{quote_ident(schema)}")
            con.execute(f"CREATE TABLE {qualified(schema, table, here)} AS "
                        f"SELECT * FROM {qualified(schema, table, 'warehouse')}")
            rows = con.execute(f"SELECT count(*) FROM {qualified(schema, table, here)}").fetchall()[0][0]
            cycle_rows = rows
            if _has_cycle(con, schema, table, here):
                cycle_rows = con.execute(f"SELECT count(*) FROM {qualified(schema, table, here)} "
                                         "WHERE CAST(cycle AS VARCHAR) = ?", [cycle]).fetchall()[0][0]
            _document(con, here, schema, table, docs)
            copied.append((schema, table, rows, cycle_rows))
        con.execute("DETACH warehouse")
        meta = qualified(META_SCHEMA, META_TABLE, here)
        con.execute(f"CREATE SCHEMA {quote_ident(here)}.{quote_ident(META_SCHEMA)}")
        con.execute(f"CREATE TABLE {meta} (cycle VARCHAR, schema_name VARCHAR, table_name VARCHAR, "
                    "rows BIGINT, cycle_rows BIGINT)")
        con.executemany(f"INSERT INTO {meta} VALUES (?, ?, ?, ?, ?)", [(cycle, *row) for row in copied])
        _document(con, here, META_SCHEMA, META_TABLE, {(META_SCHEMA, META_TABLE): PUBLICATION_DOC})
    return copied


def stage_exports(warehouse: Path, staged: Path, tables: Iterable[tuple[str, str]], cycle: str) -> None:
    """Write each (schema, table) as `staged/<table>.parquet`: only the rows of `cycle` where the table
    carries one, in a fixed order, so the same tables give the same bytes."""
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    with connect(warehouse, read_only=True) as con:
        for schema, table in tables:
            where, params = "", []
            if _has_cycle(con, schema, table):
                where, params = " WHERE CAST(cycle AS VARCHAR) = ?", [cycle]
            con.execute(
                f"COPY (SELECT * FROM {qualified(schema, table)}{where} ORDER BY ALL) TO ? (FORMAT parquet)",
                [*params, str(staged / f"{table}.parquet")],
            )


def _write_journal(home: Path, steps: list[tuple[Path, Path]]) -> None:
    """Record the switches to make, durably and atomically, before making the first one."""
    journal = home / JOURNAL
    staged = _staged(journal)
    with open(staged, "w") as handle:
        json.dump([[str(a), str(b)] for a, b in steps], handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, journal)


def _apply(steps: list[tuple[Path, Path]]) -> None:
    """Move each staged path onto its published one. Safe to repeat after a kill at any point: a step whose
    staged path is gone is done."""
    for index, (staged, final) in enumerate(steps):
        if staged.exists():
            if staged.is_dir():  # a folder cannot be renamed over another: move the old one aside first
                if final.exists():
                    final.rename(_old(final))
                staged.rename(final)
            else:
                os.replace(staged, final)
        if index < len(steps) - 1:
            fault_point("publish_swap")


def recover(home: Path) -> list[str]:
    """Finish a publication a kill interrupted after its journal, then remove the project's own leftovers
    (staged and `.old` files and folders, their WAL files, the copy under its old name). Returns what it did."""
    done = []
    journal = home / JOURNAL
    if journal.exists():
        steps = [(Path(a), Path(b)) for a, b in json.loads(journal.read_text())]
        _apply(steps)
        journal.unlink()
        done.append(f"completed an interrupted publication: {', '.join(str(b) for _, b in steps)}")
    for folder in (home / "serving", home / "exports", home):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if _is_leftover(path):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
                done.append(f"removed leftover {path}")
    return done


def _is_leftover(path: Path) -> bool:
    name = path.name
    if not name.startswith("."):
        return False
    # Ours now (.<name>.staged, .<name>.old, their .wal) and those of earlier releases (.<name>.<pid>.tmp/.old).
    stem = name.removesuffix(".wal")
    return stem.endswith((STAGED, OLD, ".tmp")) and (
        stem.startswith((f".{SERVING_FILE}", f".{LEGACY_SERVING_FILE}", ".cycle=", JOURNAL))
    )


def publish(
    warehouse: Path, home: Path, tables: list[tuple[str, str]], cycle: str, serve: bool, docs: Docs,
    files: Mapping[str, Path] | None = None,
) -> Publication:
    """Stage the cycle's exports (and, when `serve`, the BI copy), then switch them together (module docstring).

    `files` are copied into the export folder under the given names (the executive pack's page), so they
    switch with the tables they show."""
    exports = home / "exports" / f"cycle={cycle}"
    serving = home / "serving" / SERVING_FILE
    exports.parent.mkdir(parents=True, exist_ok=True)
    serving.parent.mkdir(parents=True, exist_ok=True)
    steps = [(_staged(exports), exports)]
    copied = []
    try:
        stage_exports(warehouse, _staged(exports), tables, cycle)
        for name, source in sorted((files or {}).items()):
            shutil.copyfile(source, _staged(exports) / name)
        if serve:
            copied = stage_serving_copy(warehouse, _staged(serving), tables, cycle, docs)
            steps.append((_staged(serving), serving))
        fault_point("publish_exports")
    except BaseException:
        for staged, _ in [(_staged(exports), exports), (_staged(serving), serving)]:
            shutil.rmtree(staged, ignore_errors=True) if staged.is_dir() else staged.unlink(missing_ok=True)
            Path(f"{staged}.wal").unlink(missing_ok=True)
        raise
    _write_journal(home, steps)
    _apply(steps)
    (home / JOURNAL).unlink()
    recover(home)  # the old export folder, and a copy left under its old name
    (home / "serving" / LEGACY_SERVING_FILE).unlink(missing_ok=True)
    return Publication(cycle, exports, serving if serve else None, copied)
