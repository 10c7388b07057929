"""The scenario stage's asset checks count the breaking rows of the run's cycle only."""

from datetime import date

import duckdb

from sop_pipeline.defs.scenarios import MOQ_RULE, PROJECTION_RULE, rows_breaking

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)


def _warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA sop")
    con.execute("CREATE TABLE sop.planned_orders (cycle DATE, quantity DOUBLE, moq DOUBLE, order_multiple DOUBLE)")
    con.executemany("INSERT INTO sop.planned_orders VALUES (?, ?, ?, ?)", [
        (OCTOBER, 50.0, 100.0, 10.0),   # below MOQ
        (OCTOBER, 105.0, 100.0, 10.0),  # off the multiple
        (NOVEMBER, 120.0, 100.0, 10.0),  # fine
        (NOVEMBER, 100.0, 100.0, 25.0),  # fine: 4 × 25
    ])
    con.execute("CREATE TABLE sop.inventory_projection (cycle DATE, opening DOUBLE, receipts DOUBLE, "
                "planned_receipts DOUBLE, fulfilled DOUBLE, closing DOUBLE)")
    con.executemany("INSERT INTO sop.inventory_projection VALUES (?, ?, ?, ?, ?, ?)", [
        (OCTOBER, 10.0, 5.0, 0.0, 8.0, 7.0),     # 10 + 5 + 0 − 8 = 7: balances
        (NOVEMBER, 10.0, 5.0, 0.0, 8.0, 6.0),    # should close at 7
        (NOVEMBER, 0.0, 0.0, 0.0, 0.0, -1.0),    # negative stock (and off by 1)
        (NOVEMBER, 3.0, 0.0, 2.0, 5.0, 0.0),     # balances at 0
    ])
    return con


def test_each_cycle_is_checked_on_its_own_rows(tmp_path):
    con = _warehouse(tmp_path)
    assert rows_breaking(con, "planned_orders", MOQ_RULE, OCTOBER) == 2
    assert rows_breaking(con, "planned_orders", MOQ_RULE, NOVEMBER) == 0  # October's bad orders do not fail November
    assert rows_breaking(con, "inventory_projection", PROJECTION_RULE, OCTOBER) == 0
    assert rows_breaking(con, "inventory_projection", PROJECTION_RULE, NOVEMBER) == 2
