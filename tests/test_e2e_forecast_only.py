"""End to end in forecast-only mode: series imported with `sop import-series`, one cycle run with `sop run`.

Six series of 40 months (January 2021 to April 2024) with a few unknown values, no stock counts, purchase
orders or suppliers. The May 2024 cycle must build the fact base, the forecast and the demand plan, write the
supply review, cash plan and scenario tables with no row for the cycle, and publish.
"""

from __future__ import annotations

import contextlib
import io
import os
from datetime import date

import dagster as dg
import numpy as np
import polars as pl
import pytest

from sop_pipeline.cli import run_cycle
from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import add_months
from sop_pipeline.defs.scenarios import TABLES as SUPPLY_TABLES
from sop_pipeline.ingest.series import import_series
from sop_pipeline.publish import published_cycle
from sop_pipeline.warehouse import connect, fetch_frame

pytestmark = pytest.mark.e2e

FIRST, CYCLE, HORIZON = date(2021, 1, 1), date(2024, 5, 1), 12
SERIES, MONTHS = [f"S{i}" for i in range(6)], 40
EMPTY = {("S0", date(2021, 11, 1)), ("S2", date(2023, 2, 1)), ("S2", date(2023, 3, 1))}  # empty units
ABSENT = {("S4", date(2022, 6, 1))}  # no row at all


def series_file(path) -> None:
    """Seasonal series around a level of 50, 80, ... units, a fixed seed."""
    rng = np.random.default_rng(20240501)
    rows = []
    for index, series in enumerate(SERIES):
        for offset in range(MONTHS):
            month = add_months(FIRST, offset)
            if (series, month) in ABSENT:
                continue
            level = (50 + 30 * index) * (1 + 0.3 * np.sin(2 * np.pi * offset / 12))
            units = "" if (series, month) in EMPTY else f"{max(level + rng.normal(0, 5), 0):.1f}"
            rows.append((series, month.isoformat(), units))
    pl.DataFrame(rows, schema=["series_id", "month", "units"], orient="row").write_csv(path)


def query(path, sql: str, params=()) -> pl.DataFrame:
    with connect(path, read_only=True) as con:
        return fetch_frame(con, sql, params)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("forecast_only")
    series_file(root / "series.csv")
    landing = root / "landing"
    import_series(root / "series.csv", landing)
    sop = SopConfig.from_env(env={}, home=str(root / "home"), data_dir=str(landing), as_of="2024-05-20")
    saved = dict(os.environ)
    os.environ.pop("DAGSTER_HOME", None)  # run_cycle then keeps its run history in the home's own folder
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            ok = run_cycle(sop, CYCLE)
        with dg.DagsterInstance.from_config(str(sop.dagster_home)) as instance:
            (latest,) = instance.get_runs(limit=1)
            events = [e.dagster_event for e in instance.all_logs(latest.run_id) if e.dagster_event]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield {"ok": ok, "sop": sop, "landing": landing, "printed": printed.getvalue(), "events": events}


def test_the_run_succeeds_and_says_it_ran_forecast_only(run):
    assert run["ok"]
    expected = f"Forecast-only mode: no inventory data in {run['landing']}; supply review, cash plan and scenarios"
    assert f"{expected} not planned (their tables have no row for this cycle)." in run["printed"]


def test_every_series_is_forecast_over_the_whole_horizon_and_planned(run):
    path = run["sop"].warehouse_path
    forecast = query(path, "SELECT sku, month, p50 FROM sop.forecast WHERE cycle = ? ORDER BY sku, month", [CYCLE])
    months = [add_months(CYCLE, i) for i in range(HORIZON)]
    assert forecast.select("sku", "month").rows() == [(s, m) for s in sorted(SERIES) for m in months]
    assert forecast["p50"].null_count() == 0
    for table in ("forecast_backtest", "fva"):
        assert query(path, f"SELECT count(*) AS n FROM sop.{table} WHERE cycle = ?", [CYCLE])["n"][0] > 0, table
    plan = query(path, "SELECT count(*) AS n FROM sop.demand_plan WHERE cycle = ? AND is_current", [CYCLE])
    assert plan["n"][0] == len(SERIES) * HORIZON


def test_unknown_months_are_missing_with_null_demand_not_zero(run):
    demand = query(run["sop"].warehouse_path, "SELECT sku, month, units, is_missing, is_zero_filled "
                                             "FROM marts.fct_demand_monthly")
    missing = demand.filter(pl.col("is_missing"))
    assert set(missing.select("sku", "month").iter_rows()) == EMPTY | ABSENT
    assert missing["units"].null_count() == missing.height and not missing["is_zero_filled"].any()
    known = demand.filter(~pl.col("is_missing"))
    assert known["units"].null_count() == 0 and known.height == len(SERIES) * MONTHS - len(EMPTY | ABSENT)


def test_supply_finance_and_scenario_tables_are_written_with_no_row_for_the_cycle(run):
    with connect(run["sop"].warehouse_path, read_only=True) as con:
        for table in SUPPLY_TABLES:  # the tables exist, with their columns, for BI; the cycle has no row
            assert con.execute(f"SELECT count(*) FROM sop.{table} WHERE cycle = ?", [CYCLE]).fetchone()[0] == 0
        columns = {name for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sop' "
            "AND table_name = 'scenario_summary'").fetchall()}
    assert {"cycle", "scenario", "service_level", "peak_cash_month", "funding_need"} <= columns
    materialised = {e.asset_key.to_user_string() for e in run["events"] if e.is_step_materialization}
    assert set(SUPPLY_TABLES) | {"forecast", "demand_plan", "executive_pack", "serving_copy"} <= materialised
    outcome = {e.step_key: e.event_type_value for e in run["events"]
               if e.event_type_value in ("STEP_SUCCESS", "STEP_SKIPPED", "STEP_FAILURE")}
    assert set(outcome.values()) == {"STEP_SUCCESS"}
    # The stage's checks pass on a cycle with no rows: nothing breaks the rules.
    checks = {e.event_specific_data.check_name: e.event_specific_data.passed for e in run["events"]
              if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks["projection_balances"] and checks["orders_respect_moq_and_multiple"]


def test_what_exists_is_published_for_bi(run):
    sop = run["sop"]
    assert published_cycle(sop.serving_path) == CYCLE.isoformat()
    rows = query(sop.serving_path, "SELECT count(*) AS n FROM sop.forecast WHERE cycle = ?", [CYCLE])
    assert rows["n"][0] == len(SERIES) * HORIZON
    exports = sop.exports_path / f"cycle={CYCLE.isoformat()}"
    assert (exports / "forecast.parquet").exists() and (exports / "fct_demand_monthly.parquet").exists()
    assert pl.read_parquet(exports / "inventory_projection.parquet").height == 0


def test_the_pack_is_built_with_its_forecast_sections_and_says_why_the_others_are_absent(run):
    from sop_pipeline.pack.page import pack_path

    materialised = {e.asset_key.to_user_string() for e in run["events"] if e.is_step_materialization}
    assert {"kpi_history", "plan_bridge", "executive_pack"} <= materialised
    html = pack_path(run["sop"].home_path, CYCLE).read_text(encoding="utf-8")
    assert "could not be built" not in html
    # decisions needed, scenarios, stock, cash and capacity each say why they are empty (a sentence: capitalised)
    assert html.count("Not available in forecast-only mode") == 5
    assert 'id="chart-scorecard"' in html and 'id="chart-demand"' in html
    assert "First cycle: no bridge yet" in html
    exports = run["sop"].exports_path / f"cycle={CYCLE.isoformat()}"
    assert (exports / "executive_pack.html").read_bytes() == pack_path(run["sop"].home_path, CYCLE).read_bytes()
