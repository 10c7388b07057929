"""The dbt fact base on a tiny hand-written warehouse: every expected value below is computed by hand.

The cycle is 2026-05-01, so history runs to April 2026. Four SKUs:

- A-1 (launched December 2025) sells 10 units in January and 5 in March on DTC; a 99-unit line
  dated on the cycle start must be cut off. Its last February count is empty (a stockout).
- B-1 (launched 2025) sells 40 units in November 2025 (Wholesale, the first month of any sales
  data) and 20 in March 2026 (DTC).
- C-1 (launched March 2026) sells 5 units in April on DTC.
- D-1 never sold.

Trailing-12-month revenue: B-1 300, A-1 150, C-1 50, D-1 0 (total 500), so B-1 is A, A-1 is A
(60 % before it: it crosses 80 % and stays A), C-1 is B (90 % before it) and D-1 is C.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from sop_pipeline.dbt_paths import DBT_PROJECT_DIR, dbt_executable
from sop_pipeline.ingest.contract import DATASETS, DATASETS_BY_NAME
from sop_pipeline.warehouse import RAW_SCHEMA, SOURCE_FILE, SOURCE_ROW, connect, qualified, quote_ident, raw_table_ddl

CYCLE = "2026-05-01"


def product(sku, family, launch, discontinue=None, lead_time_days=45, supplier="SUP-01"):
    return {"sku": sku, "name": f"Product {sku}", "family": family, "unit_cost": 4.0, "unit_price": 10.0,
            "supplier": supplier, "lead_time_days": lead_time_days, "moq": 100, "order_multiple": 50,
            "status": "active", "launch_date": date.fromisoformat(launch),
            "discontinue_date": date.fromisoformat(discontinue) if discontinue else None}


def sale(day, sku, channel, quantity, revenue):
    return {"date": date.fromisoformat(day), "sku": sku, "channel": channel, "quantity": quantity, "net_revenue": revenue}


def count(day, sku, location, on_hand):
    return {"snapshot_date": date.fromisoformat(day), "sku": sku, "location": location, "on_hand": on_hand}


def po(po_id, sku, ordered, expected, quantity, received, status, unit_cost=4.0):
    return {"po_id": po_id, "sku": sku, "order_date": date.fromisoformat(ordered),
            "expected_date": date.fromisoformat(expected), "quantity": quantity,
            "received_quantity": received, "status": status, "unit_cost": unit_cost}


TINY_WAREHOUSE = {
    "products": [
        product("A-1", "Candles", "2025-12-01", lead_time_days=45),
        product("B-1", "Soaps", "2025-01-01", lead_time_days=30),
        product("C-1", "Candles", "2026-03-01", lead_time_days=31),
        product("D-1", "Soaps", "2026-01-01", discontinue="2026-03-15"),
    ],
    "sales": [
        sale("2026-01-10", "A-1", "DTC", 10, 100.0),
        sale("2026-03-05", "A-1", "DTC", 5, 50.0),
        sale("2026-05-01", "A-1", "DTC", 99, 990.0),  # on the cycle start: belongs to the next cycle
        sale("2025-11-20", "B-1", "Wholesale", 40, 200.0),
        sale("2026-03-12", "B-1", "DTC", 12, 60.0),
        sale("2026-03-28", "B-1", "DTC", 8, 40.0),
        sale("2026-04-02", "C-1", "DTC", 5, 50.0),
    ],
    "inventory": [
        count("2026-02-10", "A-1", "WH-MAIN", 5),
        count("2026-02-27", "A-1", "WH-MAIN", 0),  # the last February count: A-1 is out of stock
        count("2026-02-27", "A-1", "WH-2", 0),
        count("2026-03-31", "A-1", "WH-MAIN", 30),
        count("2026-03-31", "A-1", "WH-2", 10),
        count("2026-05-01", "A-1", "WH-MAIN", 500),  # counted on the cycle start: too late
        count("2026-03-15", "B-1", "WH-MAIN", 0),  # empty mid-March, refilled by the month's last count
        count("2026-03-31", "B-1", "WH-MAIN", 8),
        count("2026-04-30", "B-1", "WH-MAIN", 12),
    ],
    "purchase_orders": [
        po("PO-1", "A-1", "2026-02-01", "2026-04-15", 100, 0, "open"),  # overdue at the cycle
        po("PO-2", "A-1", "2026-04-01", "2026-05-20", 200, 50, "partial"),
        po("PO-3", "B-1", "2026-04-10", "2026-07-01", 60, 0, "open", unit_cost=1.5),
        po("PO-4", "B-1", "2026-05-02", "2026-06-01", 999, 0, "open"),  # placed after the cycle start
        po("PO-5", "B-1", "2026-01-05", "2026-02-01", 10, 10, "received"),
        po("PO-6", "C-1", "2026-03-01", "2026-06-01", 70, 0, "cancelled"),
    ],
}


def write_raw_tables(path: Path, rows_by_dataset: dict[str, list[dict]]) -> None:
    """Every raw table of the contract (absent optional ones empty), filled through parameters."""
    with connect(path) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(RAW_SCHEMA)}")
        for dataset in DATASETS:
            con.execute(raw_table_ddl(dataset))
        for name, rows in rows_by_dataset.items():
            dataset = DATASETS_BY_NAME[name]
            columns = [*dataset.column_names, SOURCE_FILE, SOURCE_ROW]
            sql = (f"INSERT INTO {qualified(RAW_SCHEMA, name)} ({', '.join(map(quote_ident, columns))}) "
                   f"VALUES ({', '.join('?' for _ in columns)})")
            con.executemany(sql, [[row.get(c) for c in dataset.column_names] + [f"{name}/{name}.csv", i + 2]
                                  for i, row in enumerate(rows)])


def dbt_build(tmp_path: Path, warehouse: Path) -> subprocess.CompletedProcess:
    command = [
        dbt_executable(), "build",
        "--vars", json.dumps({"cycle": CYCLE, "warehouse_path": str(warehouse)}),
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
    ]
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "DO_NOT_TRACK": "1"}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)


def failed_nodes(tmp_path: Path) -> set[str]:
    """Names of the models and tests that failed (a unique id is `type.project.name[.hash]`)."""
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error")}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fact_base")
    path = root / "warehouse.duckdb"
    write_raw_tables(path, TINY_WAREHOUSE)
    done = dbt_build(root, path)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert failed_nodes(root) == set()
    return path


def rows(path: Path, sql: str) -> list[tuple]:
    with connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_sku_is_zero_filled_between_its_sales_and_flagged_out_of_stock(warehouse):
    demand = rows(warehouse, "SELECT month, units, order_lines, is_zero_filled, is_stockout FROM marts.fct_demand_monthly "
                             "WHERE sku = 'A-1' AND channel = 'DTC' ORDER BY month")
    assert demand == [
        (date(2025, 12, 1), 0, 0, True, False),  # launch month: in its life, nothing sold
        (date(2026, 1, 1), 10, 1, False, False),
        (date(2026, 2, 1), 0, 0, True, True),  # last February count empty
        (date(2026, 3, 1), 5, 1, False, False),
        (date(2026, 4, 1), 0, 0, True, False),
    ]


def test_a_sale_dated_on_the_cycle_start_is_cut_off(warehouse):
    assert rows(warehouse, "SELECT max(month), sum(units) FROM marts.fct_demand_monthly WHERE sku = 'A-1'") == [
        (date(2026, 4, 1), 15)
    ]
    assert rows(warehouse, "SELECT count(*) FROM staging.stg_raw__sales WHERE order_date >= DATE '2026-05-01'") == [(0,)]


def test_zero_fill_covers_every_channel_a_sku_sold_in_from_the_first_month_of_data(warehouse):
    spine = rows(warehouse, "SELECT sku, channel, min(month), max(month), count(*), sum(units) "
                            "FROM marts.fct_demand_monthly GROUP BY ALL ORDER BY ALL")
    assert spine == [
        ("A-1", "DTC", date(2025, 12, 1), date(2026, 4, 1), 5, 15),
        ("B-1", "DTC", date(2025, 11, 1), date(2026, 4, 1), 6, 20),  # launched before the data: starts with it
        ("B-1", "Wholesale", date(2025, 11, 1), date(2026, 4, 1), 6, 40),
        ("C-1", "DTC", date(2026, 3, 1), date(2026, 4, 1), 2, 5),
    ]


def test_a_stockout_refilled_before_the_months_last_count_is_not_flagged(warehouse):
    assert rows(warehouse, "SELECT count(*) FROM marts.fct_demand_monthly WHERE sku = 'B-1' AND is_stockout") == [(0,)]


def test_abc_xyz_segments_of_the_tiny_catalogue(warehouse):
    products = rows(warehouse, "SELECT sku, trailing_12m_revenue, revenue_share, abc_class, xyz_class, segment, "
                               "months_of_history, is_new, lead_time_months FROM marts.dim_products ORDER BY sku")
    assert products == [
        ("A-1", 150.0, 0.3, "A", "Z", "AZ", 5, True, 2),
        ("B-1", 300.0, 0.6, "A", "Z", "AZ", 6, False, 1),
        ("C-1", 50.0, 0.1, "B", "Z", "BZ", 2, True, 2),
        ("D-1", 0.0, 0.0, "C", "Z", "CZ", 0, True, 2),
    ]


def test_inventory_position_uses_the_last_count_before_the_cycle(warehouse):
    position = rows(warehouse, "SELECT sku, snapshot_date, on_hand, has_stale_count, open_po_units, late_po_units, "
                               "inventory_position FROM marts.fct_inventory_position ORDER BY sku")
    # WH-MAIN 30 + WH-2 10 at 31 March; WH-MAIN counted again on 30 April without A-1: stale.
    assert position == [
        ("A-1", date(2026, 3, 31), 40.0, True, 250.0, 100.0, 290.0),
        ("B-1", date(2026, 4, 30), 12.0, False, 60.0, 0.0, 72.0),
        ("C-1", None, 0.0, False, 0.0, 0.0, 0.0),
        ("D-1", None, 0.0, False, 0.0, 0.0, 0.0),
    ]


def test_locations_counted_on_different_days_are_all_summed(tmp_path):
    data = {**TINY_WAREHOUSE, "inventory": [
        count("2026-04-20", "A-1", "WH-MAIN", 30),
        count("2026-04-28", "A-1", "WH-2", 7),
    ]}
    path = tmp_path / "w.duckdb"
    write_raw_tables(path, data)
    assert dbt_build(tmp_path, path).returncode == 0
    assert rows(path, "SELECT on_hand, snapshot_date, has_stale_count FROM marts.fct_inventory_position "
                      "WHERE sku = 'A-1'") == [(37.0, date(2026, 4, 28), False)]


def test_an_overdue_po_lands_in_the_cycle_month(warehouse):
    supply = rows(warehouse, "SELECT sku, supplier, expected_month, open_units, late_units, open_value, po_lines "
                             "FROM marts.fct_open_supply ORDER BY sku, expected_month")
    assert supply == [
        ("A-1", "SUP-01", date(2026, 5, 1), 250.0, 100.0, 1000.0, 2),  # PO-1 overdue since April + PO-2
        ("B-1", "SUP-01", date(2026, 7, 1), 60.0, 0.0, 90.0, 1),
    ]


def test_the_calendar_spans_history_and_horizon_with_time_fences(warehouse):
    calendar = rows(warehouse, "SELECT month, months_from_cycle, horizon_month, time_fence FROM marts.dim_calendar ORDER BY month")
    assert len(calendar) == 6 + 12
    assert calendar[0] == (date(2025, 11, 1), -6, None, "history")
    assert calendar[-1] == (date(2027, 4, 1), 11, 12, "strategic")
    fences = {horizon_month: fence for _, _, horizon_month, fence in calendar if horizon_month}
    assert [fences[m] for m in (1, 2, 3, 6, 7)] == ["frozen", "frozen", "flexible", "flexible", "strategic"]


def test_every_mart_carries_the_cycle(warehouse):
    for mart in ("dim_calendar", "dim_products", "fct_demand_monthly", "fct_inventory_position", "fct_open_supply"):
        assert rows(warehouse, f"SELECT DISTINCT cycle FROM marts.{mart}") == [(date(2026, 5, 1),)], mart


def test_a_broken_invariant_fails_the_build(tmp_path):
    broken = {**TINY_WAREHOUSE, "sales": [*TINY_WAREHOUSE["sales"], sale("2026-04-03", "C-1", "DTC", -2, 0.0)]}
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, broken)
    done = dbt_build(tmp_path, path)
    assert done.returncode != 0
    assert failed_nodes(tmp_path) == {"stg_raw__sales_quantity_and_revenue_are_not_negative"}


def test_a_missing_month_is_unknown_on_every_channel_not_zero(tmp_path):
    """A-1's March is listed missing although a 5-unit line exists (a partial export); B-1's December is
    missing on both its channels. Their demand is null, and sums and segments skip them."""
    data = {**TINY_WAREHOUSE, "missing_months": [
        {"sku": "A-1", "month": date(2026, 3, 1), "reason": "partial export"},
        {"sku": "B-1", "month": date(2025, 12, 1), "reason": None},
        {"sku": "B-1", "month": date(2026, 5, 1), "reason": "not history yet"},  # on the cycle start: cut off
    ]}
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, data)
    done = dbt_build(tmp_path, path)
    assert done.returncode == 0, done.stdout[-5000:]
    assert rows(path, "SELECT sku, channel, month, units, net_revenue, order_lines, is_zero_filled "
                      "FROM marts.fct_demand_monthly WHERE is_missing ORDER BY ALL") == [
        ("A-1", "DTC", date(2026, 3, 1), None, None, None, False),
        ("B-1", "DTC", date(2025, 12, 1), None, None, None, False),
        ("B-1", "Wholesale", date(2025, 12, 1), None, None, None, False),
    ]
    # The spine is unchanged: a missing month is a row of the life, with unknown demand.
    assert rows(path, "SELECT sku, count(*), sum(units) FROM marts.fct_demand_monthly GROUP BY 1 ORDER BY 1") == [
        ("A-1", 5, 10), ("B-1", 12, 60), ("C-1", 2, 5),
    ]
    # Revenue A-1 100, B-1 300, C-1 50 of 450: B-1 A, A-1 A (67 % before it), C-1 B (89 %), D-1 C.
    assert rows(path, "SELECT sku, trailing_12m_revenue, abc_class, months_of_history FROM marts.dim_products "
                      "ORDER BY sku") == [
        ("A-1", 100.0, "A", 4), ("B-1", 300.0, "A", 5), ("C-1", 50.0, "B", 2), ("D-1", 0.0, "C", 0),
    ]


EARLIEST_GUARD = "assert_nothing_is_dated_before_the_earliest_month"


def test_a_sale_before_the_earliest_month_fails_the_calendar_guard(tmp_path):
    """A sale dated 1970, written straight into the raw table (ingest would reject it): it would stretch the
    calendar by decades, so the build fails and names the guard."""
    data = {**TINY_WAREHOUSE, "sales": [*TINY_WAREHOUSE["sales"], sale("1970-01-15", "B-1", "DTC", 1, 5.0)]}
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, data)
    done = dbt_build(tmp_path, path)
    assert done.returncode != 0
    assert EARLIEST_GUARD in failed_nodes(tmp_path), done.stdout[-3000:]


def test_a_launch_decades_ago_does_not_stretch_the_calendar(tmp_path):
    """Launch dates may predate the earliest month (a long-lived SKU): the calendar still starts with the
    first sale (November 2025), and the guard passes."""
    products = [product("B-1", "Soaps", "1990-01-01", lead_time_days=30), *TINY_WAREHOUSE["products"][2:],
                product("A-1", "Candles", "1990-06-01", lead_time_days=45)]
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, {**TINY_WAREHOUSE, "products": products})
    done = dbt_build(tmp_path, path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert rows(path, "SELECT min(month) FROM marts.dim_calendar") == [(date(2025, 11, 1),)]
    assert rows(path, "SELECT min(month) FROM marts.fct_demand_monthly") == [(date(2025, 11, 1),)]
