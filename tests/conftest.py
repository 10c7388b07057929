"""Shared fixtures: a tiny, hand-written landing folder that meets the contract."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

AS_OF = date(2026, 11, 21)

# Every value is text, as a user's export would be. Two SKUs, one month of history.
TINY_LANDING: dict[str, dict[str, list[str]]] = {
    "products": {
        "sku": ["A-1", "B-1"],
        "name": ["Candle A", "Soap B"],
        "family": ["Candles", "Soaps"],
        "unit_cost": ["4.00", "1.50"],
        "unit_price": ["12.00", "5.00"],
        "supplier": ["SUP-01", "SUP-02"],
        "lead_time_days": ["30", "60"],
        "moq": ["100", "200"],
        "order_multiple": ["50", "100"],
        "status": ["active", "active"],
        "launch_date": ["2025-01-01", "2025-06-01"],
        "discontinue_date": ["", ""],
    },
    "sales": {
        "date": ["2026-10-03", "2026-10-04", "2026-10-20"],
        "sku": ["A-1", "A-1", "B-1"],
        "channel": ["DTC", "Wholesale", "DTC"],
        "quantity": ["3", "10", "4"],
        "net_revenue": ["36.00", "66.00", "20.00"],
    },
    "missing_months": {
        "sku": ["B-1"],
        "month": ["2026-09-01"],
        "reason": ["ERP migration gap"],
    },
    "inventory": {
        "snapshot_date": ["2026-10-31", "2026-10-31"],
        "sku": ["A-1", "B-1"],
        "location": ["WH-MAIN", "WH-MAIN"],
        "on_hand": ["120", "0"],
    },
    "purchase_orders": {
        "po_id": ["PO-1"],
        "sku": ["B-1"],
        "order_date": ["2026-10-01"],
        "expected_date": ["2026-12-01"],
        "quantity": ["400"],
        "received_quantity": ["0"],
        "status": ["open"],
        "unit_cost": ["1.40"],
    },
    "suppliers": {
        "supplier": ["SUP-01", "SUP-02"],
        "monthly_capacity": ["5000", "3000"],
        "deposit_share": ["0.3", "0"],
        "payment_days": ["30", "60"],
    },
    "events": {
        "event_id": ["EV-1"],
        "event_type": ["promotion"],
        "sku": [""],
        "family": ["Candles"],
        "channel": ["DTC"],
        "start_date": ["2026-11-24"],
        "end_date": ["2026-11-30"],
        "uplift_pct": ["0.3"],
    },
    "overrides": {
        "cycle": ["2026-11-01"],
        "sku": ["A-1"],
        "family": [""],
        "month": ["2026-12-01"],
        "quantity": ["40"],
        "percent": [""],
        "reason": ["Retailer listing"],
        "owner": ["maria"],
    },
    "budget": {
        "month": ["2026-11-01", "2026-11-01"],
        "family": ["Candles", "Soaps"],
        "revenue_target": ["1000", "200"],
    },
}


def write_landing(folder: Path, data: dict[str, dict[str, list[str]]]) -> Path:
    """Write each data set as folder/<name>/<name>.csv with every cell as text."""
    for name, columns in data.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        pl.DataFrame(columns, schema={c: pl.String for c in columns}).write_csv(folder / name / f"{name}.csv")
    return folder


@pytest.fixture
def tiny_landing(tmp_path: Path) -> Path:
    return write_landing(tmp_path / "landing", TINY_LANDING)


@pytest.fixture
def restore_environ():
    """Runs set SOP_* and DAGSTER_HOME for their subprocesses; put the environment back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def run_cycle_in_process(sop, cycle: date, **kwargs) -> bool:
    """`sop run`'s code path in this process; it sets SOP_* and DAGSTER_HOME for its subprocesses, so the
    environment is put back afterwards."""
    from sop_pipeline.cli import run_cycle

    saved = dict(os.environ)
    try:
        return run_cycle(sop, cycle, **kwargs)
    finally:
        os.environ.clear()
        os.environ.update(saved)


# The end-to-end demo: one small brand, the same files wherever a test generates it.
E2E_CYCLE = date(2026, 11, 1)
E2E_DEMO = {"skus": 40, "months": 30, "seed": 11}


@pytest.fixture(scope="session")
def fresh_november(tmp_path_factory):
    """The November cycle of the end-to-end demo, each on a fresh home: once through `sop run`'s code path and
    once through Dagster's own CLI. Shared by the tests that compare runs, so each runs the cycle only once."""
    import subprocess
    import sys

    from sop_pipeline.config import SopConfig
    from sop_pipeline.demo.generate import generate_demo

    root = tmp_path_factory.mktemp("fresh_november")
    landing = root / "landing"
    generate_demo(landing, cycle=E2E_CYCLE, **E2E_DEMO)
    sop = SopConfig.from_env(env={}, home=str(root / "sop_run"), data_dir=str(landing), as_of="2026-11-21")
    assert run_cycle_in_process(sop, E2E_CYCLE)
    cli = root / "dagster_cli"
    (root / "dagster").mkdir()
    env = {**os.environ, "SOP_HOME": str(cli), "SOP_DATA_DIR": str(landing), "SOP_AS_OF": "2026-11-21",
           "DAGSTER_HOME": str(root / "dagster")}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "sop_pipeline.definitions",
         "--select", "*", "--partition", E2E_CYCLE.isoformat()],
        env=env, capture_output=True, text=True, cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {"landing": landing, "sop": sop, "cli": SopConfig.from_env(env={}, home=str(cli), data_dir=str(landing),
                                                                     as_of="2026-11-21")}
