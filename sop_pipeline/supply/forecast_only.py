"""Forecast-only mode: a landing folder without stock counts has no supply to review.

The supply review starts from the stock on hand (SPEC §7), and the cash plan and the scenarios from the
supply review. Without a stock count dated before the cycle (no file, an empty one, or counts only from
after the cycle started, which a backfill of an older cycle must not see) a cycle still builds the fact
base, the forecast with its scorecard and the demand plan; the supply, finance and scenario tables get no
row for the cycle, rather than a plan from an invented zero stock. Purchase orders without stock counts
change nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from sop_pipeline.ingest.contract import INVENTORY
from sop_pipeline.warehouse import RAW_SCHEMA, qualified, table_columns


def is_forecast_only(con: duckdb.DuckDBPyConnection, cycle: date) -> bool:
    """True when the validated inputs hold no stock count dated before the cycle (the fact base's cutoff)."""
    if not table_columns(con, RAW_SCHEMA, INVENTORY.name):
        return True
    counts = con.execute(f"SELECT count(*) FROM {qualified(RAW_SCHEMA, INVENTORY.name)} WHERE snapshot_date < ?",
                         [cycle]).fetchall()[0][0]
    return counts == 0


def forecast_only_message(landing: Path) -> str:
    return f"forecast-only mode: no inventory data in {landing}; supply review, cash plan and scenarios not planned (their tables have no row for this cycle)"
