"""The locked demand plan (SPEC §6): written once per cycle, never overwritten, versioned on a forced re-lock.

`sop.demand_plan` holds every version of every cycle's plan: `cycle, version, is_current` and the plan's
columns. The first run of a cycle writes version 1. A later run of the same cycle keeps what is there,
whatever changed in the inputs meanwhile (an override edited after the meeting does not rewrite the
plan everyone agreed on). Only an explicit re-lock writes a new version, and the old one stays, marked
`is_current = false`, so the history of what was agreed is never lost. Everything downstream reads the
current version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from sop_pipeline.warehouse import fetch_frame, insert_rows, qualified, table_columns

SCHEMA, TABLE = "sop", "demand_plan"


@dataclass(frozen=True)
class LockOutcome:
    version: int  # the current version after the call
    written: bool  # False when an existing lock was kept
    versions: int  # how many versions the cycle now has


def plan_versions(con: duckdb.DuckDBPyConnection, cycle: date) -> list[int]:
    """The versions locked for a cycle, oldest first (empty when it was never locked)."""
    if not table_columns(con, SCHEMA, TABLE):
        return []
    rows = con.execute(
        f"SELECT DISTINCT version FROM {qualified(SCHEMA, TABLE)} WHERE cycle = ? ORDER BY version", [cycle]
    ).fetchall()
    return [version for (version,) in rows]


def lock_plan(con: duckdb.DuckDBPyConnection, cycle: date, plan: pl.DataFrame, relock: bool = False) -> LockOutcome:
    """Lock `plan` as the cycle's demand plan unless one is locked already (see the module docstring).

    One transaction: a failed write leaves the earlier versions exactly as they were.
    """
    versions = plan_versions(con, cycle)
    if versions and not relock:
        return LockOutcome(version=versions[-1], written=False, versions=len(versions))
    version = (versions[-1] + 1) if versions else 1
    frame = plan.select(
        pl.lit(cycle).alias("cycle"), pl.lit(version, pl.Int32).alias("version"), pl.lit(True).alias("is_current"),
        pl.all(),
    )
    insert_rows(con, SCHEMA, TABLE, frame, before=("UPDATE {table} SET is_current = false WHERE cycle = ?", [cycle]))
    return LockOutcome(version=version, written=True, versions=len(versions) + 1)


def current_plan(con: duckdb.DuckDBPyConnection, cycle: date) -> pl.DataFrame:
    """The current version of one cycle's locked plan, sorted by SKU and month."""
    return fetch_frame(
        con, f"SELECT * FROM {qualified(SCHEMA, TABLE)} WHERE cycle = ? AND is_current ORDER BY sku, month", [cycle]
    )


def earlier_plans(con: duckdb.DuckDBPyConnection, cycle: date) -> pl.DataFrame:
    """The current version of every plan locked for a cycle before `cycle`, with `plan_cycle` for its cycle."""
    if not table_columns(con, SCHEMA, TABLE):
        return pl.DataFrame(schema={"plan_cycle": pl.Date, "sku": pl.String, "month": pl.Date,
                                    "forecast": pl.Float64, "consensus": pl.Float64})
    return fetch_frame(
        con,
        f"SELECT cycle AS plan_cycle, * EXCLUDE (cycle) FROM {qualified(SCHEMA, TABLE)} "
        "WHERE cycle < ? AND is_current ORDER BY cycle, sku, month",
        [cycle],
    )


# What each locked version was built from, beside the plan (not published: it is bookkeeping, not a plan).
INPUTS_SCHEMA, INPUTS_TABLE = "meta", "plan_lock_inputs"


def overrides_fingerprint(overrides: pl.DataFrame, cycle: date) -> str:
    """A digest of the cycle's overrides as landed (order of rows and columns ignored)."""
    rows = overrides.filter(pl.col("cycle") == cycle)
    rows = rows.select(sorted(rows.columns)).sort(pl.all(), nulls_last=True)
    return hashlib.sha256(rows.write_csv().encode()).hexdigest()


def record_lock_inputs(con: duckdb.DuckDBPyConnection, cycle: date, version: int, fingerprint: str) -> None:
    """Remember the overrides a newly locked version was built from."""
    frame = pl.DataFrame({"cycle": [cycle], "version": [version], "overrides_fingerprint": [fingerprint]},
                         schema={"cycle": pl.Date, "version": pl.Int32, "overrides_fingerprint": pl.String})
    insert_rows(con, INPUTS_SCHEMA, INPUTS_TABLE, frame,
                before=("DELETE FROM {table} WHERE cycle = ? AND version = ?", [cycle, version]))


def locked_overrides_fingerprint(con: duckdb.DuckDBPyConnection, cycle: date, version: int) -> str | None:
    """The overrides digest a locked version was built from; None for versions locked before it was kept."""
    if not table_columns(con, INPUTS_SCHEMA, INPUTS_TABLE):
        return None
    rows = con.execute(
        f"SELECT overrides_fingerprint FROM {qualified(INPUTS_SCHEMA, INPUTS_TABLE)} WHERE cycle = ? AND version = ?",
        [cycle, version],
    ).fetchall()
    return rows[0][0] if rows else None
