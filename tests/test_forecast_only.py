"""Forecast-only mode is decided by the validated stock counts: none at all, no supply review."""

from datetime import date
from pathlib import Path

from sop_pipeline.ingest.contract import INVENTORY
from sop_pipeline.supply.forecast_only import forecast_only_message, is_forecast_only
from sop_pipeline.warehouse import connect, raw_table_ddl


def test_no_raw_inventory_table_or_an_empty_one_is_forecast_only_and_a_count_is_not(tmp_path):
    cycle = date(2026, 11, 1)
    with connect(tmp_path / "w.duckdb") as con:
        assert is_forecast_only(con, cycle)  # before any ingest
        con.execute("CREATE SCHEMA raw")
        con.execute(raw_table_ddl(INVENTORY))
        assert is_forecast_only(con, cycle)
        con.execute("INSERT INTO raw.inventory VALUES ('2026-11-01', 'A-1', 'WH', 5, 'inventory/inventory.csv', 2)")
        assert is_forecast_only(con, cycle)  # counted on the cycle's first day: after its cutoff, unseen
        con.execute("INSERT INTO raw.inventory VALUES ('2026-10-31', 'A-1', 'WH', 0, 'inventory/inventory.csv', 3)")
        assert not is_forecast_only(con, cycle)  # an empty shelf is still a stock count


def test_the_message_names_the_landing_folder_and_what_is_skipped():
    assert forecast_only_message(Path("/data/landing")) == (
        "forecast-only mode: no inventory data in /data/landing; supply review, cash plan and scenarios not planned "
        "(their tables have no row for this cycle)"
    )
