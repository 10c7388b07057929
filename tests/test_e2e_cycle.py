"""End to end: demo data through ingest, the dbt fact base and publishing, for two consecutive cycles.

The checks are invariants that break if the logic is wrong: totals that must match the landing
files, nothing dated on or after the cycle, identical tables on a rerun and through Dagster's own
CLI, and bad input that fails the run while the last good tables stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sop_pipeline.cli import run_cycle
from sop_pipeline.config import SopConfig
from sop_pipeline.ingest.contract import DATASETS
from sop_pipeline.warehouse import connect, current_catalog, fetch_frame, qualified

from browser import element_sizes, inspect_in_browser, pdf_pages, screenshot
from conftest import run_cycle_in_process, xdist_group
from prepared import build_once, copy_tree

pytestmark = pytest.mark.e2e

CYCLE, PREVIOUS = date(2026, 11, 1), date(2026, 10, 1)
MARTS = ("dim_calendar", "dim_products", "fct_demand_monthly", "fct_inventory_position", "fct_open_supply")


# What a cycle's outputs owe to the cycles run before it on the same SOP_HOME (the previous locked plan,
# the scoring of earlier plans): left out when comparing with a run on a fresh home.
HISTORY_DEPENDENT = {
    "sop.demand_plan": ("previous_plan", "change_vs_previous", "is_frozen_change"),
    "sop.plan_vs_actual": None,  # None: the whole table
    "sop.plan_accuracy": None,
    "sop.plan_bridge": None,  # bridges from the earlier locked plan
    "sop.kpi_history": None,  # its locked-plan KPIs score the earlier plans
}


def table_digests(
    path: Path, schemas: tuple[str, ...], cycle: date | None = None, leave_out: dict | None = None
) -> dict[str, str]:
    """A digest of every table's sorted contents (only `cycle`'s rows, if given), to compare runs exactly;
    `leave_out` maps a table to the columns to ignore (None: the whole table)."""
    leave_out = leave_out or {}
    digests = {}
    with connect(path, read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema IN (SELECT unnest(?)) "
            "AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            if name in leave_out and leave_out[name] is None:
                continue
            frame = fetch_frame(con, f"SELECT * FROM {qualified(schema, table, current_catalog(con))}")
            frame = frame.drop(leave_out.get(name) or []).sort(pl.all())
            if cycle is not None and schema == "sop":  # outputs keyed by cycle; raw overrides span cycles
                frame = frame.filter(pl.col("cycle").cast(pl.String) == cycle.isoformat())
            digests[name] = hashlib.sha256(frame.write_csv().encode()).hexdigest()
    return digests


def query(path: Path, sql: str, params=()) -> pl.DataFrame:
    with connect(path, read_only=True) as con:
        return fetch_frame(con, sql, params)


@pytest.fixture(scope="session")
def prepared_demo(tmp_path_factory, demo_landing):
    """The demo's home run for October, then November, then November again, with what the tests compare to; built
    once per session (tests/prepared.py) and never written afterwards: `demo` hands each module a copy."""

    def build(root: Path) -> dict:
        sop = SopConfig.from_env(env={}, home=str(root / "home"), data_dir=str(demo_landing), as_of="2026-11-21")
        assert run_cycle(sop, PREVIOUS)
        october = {
            "demand": query(sop.warehouse_path, "SELECT * FROM marts.fct_demand_monthly"),
            "products": query(sop.warehouse_path, "SELECT * FROM marts.dim_products"),
            "open_supply": query(sop.warehouse_path, "SELECT * FROM marts.fct_open_supply"),
        }
        assert run_cycle(sop, CYCLE)
        first = table_digests(sop.warehouse_path, ("raw", "marts", "sop"))
        first_published = published_bytes(sop, CYCLE)
        assert run_cycle(sop, CYCLE)
        return {"october": october, "first_digests": first, "first_published": first_published}

    return build_once(tmp_path_factory, "demo", build)


def _demo_copy(tmp_path_factory, prepared_demo, demo_landing) -> dict:
    """A copy of the prepared home and of the landing folder, with the environment as the runs left it."""
    prepared, made = prepared_demo
    root = tmp_path_factory.mktemp("e2e")
    landing = copy_tree(demo_landing, root / "landing")
    copy_tree(prepared / "home", root / "home")
    sop = SopConfig.from_env(env={}, home=str(root / "home"), data_dir=str(landing), as_of="2026-11-21")
    os.environ.update(sop.env())
    os.environ["DAGSTER_HOME"] = str(sop.dagster_home)
    return {"root": root, "landing": landing, "sop": sop, **made}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prepared_demo, demo_landing):
    """Demo data for the November cycle (sales to 31 October), run for October and then November (and November
    again): this module's own copy of the session's prepared home and landing folder, which its tests may change (the
    backfill test, last, leaves it on October). While the module runs, the environment is as the runs left it."""
    saved = dict(os.environ)
    try:
        yield _demo_copy(tmp_path_factory, prepared_demo, demo_landing)
    finally:
        os.environ.clear()
        os.environ.update(saved)


_demo_group = {"demo": None, "group": None}


@pytest.fixture(autouse=True)
def demo_copy_per_group(request):
    """A test split off into an xdist group of its own may follow the module's other tests on one worker, after the
    backfill test changed the module's copy: the first test of each group refills `demo` with a fresh copy."""
    if "demo" not in request.fixturenames:
        return
    demo, group = request.getfixturevalue("demo"), xdist_group(request.node)
    if _demo_group["demo"] is demo and _demo_group["group"] != group:
        demo.update(_demo_copy(request.getfixturevalue("tmp_path_factory"), request.getfixturevalue("prepared_demo"),
                               request.getfixturevalue("demo_landing")))
    _demo_group.update(demo=demo, group=group)


def test_every_mart_is_built_and_published(demo):
    sop = demo["sop"]
    published = table_digests(sop.serving_path, ("marts",))
    assert {f"marts.{m}" for m in MARTS} <= set(published)
    for mart in MARTS:
        assert query(sop.serving_path, f"SELECT count(*) AS n FROM marts.{mart}")["n"][0] > 0, mart
        assert (sop.exports_path / f"cycle={CYCLE.isoformat()}" / f"{mart}.parquet").exists()


def test_nothing_on_or_after_the_cycle_enters_its_fact_base(demo):
    october = demo["october"]["demand"]
    assert october["month"].max() == date(2026, 9, 1)  # the October cycle ignores October's sales
    november = query(demo["sop"].warehouse_path, "SELECT max(month) AS m FROM marts.fct_demand_monthly")
    assert november["m"][0] == date(2026, 10, 1)


def test_a_past_cycle_sees_the_purchase_orders_open_at_its_start(demo):
    """Lines received in October were still open when the October cycle started."""
    po = pl.read_csv(demo["landing"] / "purchase_orders" / "purchase_orders.csv", try_parse_dates=True)
    received_later = pl.col("received_date").is_not_null() & (pl.col("received_date") >= PREVIOUS)
    open_then = po.filter(
        (pl.col("order_date") < PREVIOUS)
        & (pl.col("status").is_in(["open", "partial"]) | ((pl.col("status") == "received") & received_later))
    ).with_columns(
        (pl.col("quantity") - pl.when(received_later).then(0).otherwise(pl.col("received_quantity"))).alias("open_units")
    )
    assert po.filter(received_later & (pl.col("order_date") < PREVIOUS)).height > 0  # the case is exercised
    assert demo["october"]["open_supply"]["open_units"].sum() == open_then["open_units"].sum()


def test_monthly_demand_adds_up_to_the_order_lines(demo):
    sales = pl.read_csv(demo["landing"] / "sales" / "sales.csv", try_parse_dates=True)
    expected = (
        sales.filter(pl.col("date") < CYCLE)
        .group_by(pl.col("date").dt.truncate("1mo").alias("month"))
        .agg(pl.col("quantity").sum().alias("units"), pl.col("net_revenue").sum().alias("revenue"))
        .sort("month")
    )
    fact = query(
        demo["sop"].warehouse_path,
        "SELECT month, sum(units) AS units, sum(net_revenue) AS revenue FROM marts.fct_demand_monthly GROUP BY 1 ORDER BY 1",
    )
    joined = expected.join(fact, on="month", how="full", suffix="_fact")
    assert joined.filter(pl.col("units") != pl.col("units_fact")).is_empty()
    assert joined.filter((pl.col("revenue") - pl.col("revenue_fact")).abs() > 0.01).is_empty()


def test_zero_filled_months_and_stockouts_are_present(demo):
    demand = query(demo["sop"].warehouse_path, "SELECT * FROM marts.fct_demand_monthly")
    assert demand.filter(pl.col("is_zero_filled")).height > 0
    assert demand.filter(pl.col("is_zero_filled") & (pl.col("units") != 0)).is_empty()
    assert demand.filter(pl.col("is_stockout")).height > 0
    keys = demand.select("sku", "channel", "month")
    assert keys.height == keys.unique().height


def test_abc_classes_split_revenue_at_the_configured_shares(demo):
    products = query(demo["sop"].warehouse_path, "SELECT * FROM marts.dim_products")
    assert set(products["abc_class"].unique()) <= {"A", "B", "C"}
    share = products.group_by("abc_class").agg(pl.col("revenue_share").sum()).sort("abc_class")
    a_share = share.filter(pl.col("abc_class") == "A")["revenue_share"][0]
    a_and_b = share.filter(pl.col("abc_class").is_in(["A", "B"]))["revenue_share"].sum()
    assert 0.80 <= a_share < 0.80 + products["revenue_share"].max() + 1e-9
    assert 0.95 <= a_and_b + 1e-9
    assert products.height == pl.read_csv(demo["landing"] / "products" / "products.csv").height


def test_inventory_position_matches_the_last_snapshot_before_the_cycle(demo):
    inventory = pl.read_csv(demo["landing"] / "inventory" / "inventory.csv", try_parse_dates=True)
    before = inventory.filter(pl.col("snapshot_date") < CYCLE)
    latest = before.group_by("sku").agg(pl.col("snapshot_date").max())
    expected = before.join(latest, on=["sku", "snapshot_date"]).group_by("sku").agg(pl.col("on_hand").sum())
    position = query(demo["sop"].warehouse_path, "SELECT sku, on_hand, open_po_units, inventory_position FROM marts.fct_inventory_position")
    joined = expected.join(position, on="sku", suffix="_mart")
    assert joined.height == expected.height
    assert joined.filter(pl.col("on_hand") != pl.col("on_hand_mart")).is_empty()
    assert position.filter(pl.col("inventory_position") != pl.col("on_hand") + pl.col("open_po_units")).is_empty()


def test_forecast_bands_are_ordered_and_cover_every_selling_sku_and_month(demo):
    path = demo["sop"].warehouse_path
    forecast = query(path, "SELECT * FROM sop.forecast WHERE cycle = ?", [CYCLE])
    assert forecast.filter(~((0 <= pl.col("p10")) & (pl.col("p10") <= pl.col("p50")) & (pl.col("p50") <= pl.col("p90")))).is_empty()
    selling = query(path, "SELECT sku FROM marts.dim_products WHERE discontinue_date IS NULL OR discontinue_date >= ?", [CYCLE])
    history = query(path, "SELECT DISTINCT sku FROM marts.fct_demand_monthly")
    expected = selling.join(history, on="sku")
    assert forecast.height == expected.height * 12  # one row per selling SKU with history and horizon month
    assert forecast["month"].min() == CYCLE and forecast["month"].max() == date(2027, 10, 1)
    assert set(forecast["step"].unique()) <= {"naive", "seasonal_naive", "statistical", "lightgbm", "combination"}


def test_backtest_never_scores_a_month_it_trained_on(demo):
    backtest = query(demo["sop"].warehouse_path, "SELECT * FROM sop.forecast_backtest WHERE cycle = ?", [CYCLE])
    assert backtest.filter(pl.col("month") < pl.col("origin")).is_empty()
    assert backtest["month"].max() < CYCLE
    fva = query(demo["sop"].warehouse_path, "SELECT * FROM sop.fva WHERE cycle = ? AND segment_type = 'total'", [CYCLE])
    naive = fva.filter(pl.col("step") == "naive")
    assert (naive["fva_vs_naive"] == 0).all()
    assert set(fva["step"].unique()) >= {"naive", "seasonal_naive", "statistical", "lightgbm"}


def test_rerunning_a_cycle_gives_identical_tables(demo):
    assert table_digests(demo["sop"].warehouse_path, ("raw", "marts", "sop")) == demo["first_digests"]


def test_dagster_cli_materialises_the_same_cycle_identically(demo, fresh_november):
    home = fresh_november["cli"].home_path  # the cycle materialised by `dagster asset materialize` on a fresh home
    assert table_digests(home / "warehouse.duckdb", ("raw", "marts", "sop"), leave_out=HISTORY_DEPENDENT) == (
        table_digests(demo["sop"].warehouse_path, ("raw", "marts", "sop"), cycle=CYCLE, leave_out=HISTORY_DEPENDENT)
    )


def published_bytes(sop: SopConfig, cycle: date) -> dict[str, object]:
    """What a run left where BI reads: the copy's table digests and the cycle's export files' bytes."""
    exports = sop.exports_path / f"cycle={cycle.isoformat()}"
    return {
        "serving": table_digests(sop.serving_path, ("marts", "sop")),
        "exports": {f.name: f.read_bytes() for f in sorted(exports.iterdir()) if f.is_file()},
    }


def test_rerunning_a_cycle_publishes_the_same_bytes(demo):
    first, again = demo["first_published"], published_bytes(demo["sop"], CYCLE)
    assert set(again["exports"]) == set(first["exports"]) and set(again["serving"]) == set(first["serving"])
    assert [name for name in first["exports"] if again["exports"][name] != first["exports"][name]] == []
    assert [name for name in first["serving"] if again["serving"][name] != first["serving"][name]] == []


PLAN_TABLES = ("forecast", "forecast_backtest", "fva", "demand_plan", "plan_vs_actual", "plan_accuracy",
               "inventory_projection", "planned_orders", "supply_gaps", "capacity_load", "sku_status", "exceptions",
               "cash_plan", "budget_gap", "scenario_summary")
SCENARIO_TABLES = ("inventory_projection", "planned_orders", "supply_gaps", "capacity_load", "sku_status",
                   "exceptions", "cash_plan", "budget_gap", "scenario_summary")


_rerun = run_cycle_in_process


def test_every_plan_table_has_rows_for_the_cycle_published_and_exported(demo):
    sop = demo["sop"]
    for table in PLAN_TABLES:
        rows = query(sop.serving_path, f"SELECT count(*) AS n FROM sop.{table} WHERE cycle = ?", [CYCLE])["n"][0]
        assert rows > 0, table
        assert (sop.exports_path / f"cycle={CYCLE.isoformat()}" / f"{table}.parquet").exists(), table
    for table in SCENARIO_TABLES:
        scenarios = query(sop.warehouse_path, f"SELECT DISTINCT scenario FROM sop.{table} WHERE cycle = ?", [CYCLE])
        assert set(scenarios["scenario"]) <= {"cautious", "central", "ambitious"}, table


def test_every_output_table_has_exactly_the_documented_columns(demo):
    from sop_pipeline.outputs import OUTPUT_TABLES

    with connect(demo["sop"].serving_path, read_only=True) as con:
        found = {
            table: [name for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sop' AND table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall()]
            for table in {t.name for t in OUTPUT_TABLES} | set(PLAN_TABLES)
        }
    assert {t.name: list(t.columns) for t in OUTPUT_TABLES} == found


def test_projection_balances_never_goes_negative_and_orders_respect_moq(demo):
    path = demo["sop"].warehouse_path
    projection = query(path, "SELECT * FROM sop.inventory_projection WHERE cycle = ?", [CYCLE])
    identity = pl.col("opening") + pl.col("receipts") + pl.col("planned_receipts") - pl.col("fulfilled")
    assert projection.filter((pl.col("closing") - identity).abs() > 1e-6).is_empty()
    assert projection.filter(pl.col("closing") < 0).is_empty()
    assert projection.filter((pl.col("fulfilled") > pl.col("demand") + 1e-9) | (pl.col("fulfilled") < 0)).is_empty()
    # Each month opens with the previous month's closing stock.
    chained = projection.sort("scenario", "sku", "month").with_columns(
        pl.col("closing").shift(1).over("scenario", "sku").alias("before"))
    assert chained.filter(pl.col("before").is_not_null() & (pl.col("opening") != pl.col("before"))).is_empty()
    orders = query(path, "SELECT o.quantity, p.moq, p.order_multiple FROM sop.planned_orders o "
                         "JOIN marts.dim_products p USING (sku) WHERE o.cycle = ?", [CYCLE])
    assert orders.height > 0
    assert orders.filter(pl.col("quantity") < pl.col("moq")).is_empty()
    assert orders.filter(pl.col("quantity") % pl.col("order_multiple") != 0).is_empty()
    # Planned receipts are exactly the planned orders, month by month.
    receipts = projection.group_by("scenario", "sku", "month").agg(pl.col("planned_receipts").sum())
    ordered = query(path, "SELECT scenario, sku, receipt_month AS month, sum(quantity) AS q FROM sop.planned_orders "
                          "WHERE cycle = ? GROUP BY ALL", [CYCLE])
    both = receipts.join(ordered, on=["scenario", "sku", "month"], how="full", coalesce=True).fill_null(0.0)
    assert both.filter((pl.col("planned_receipts") - pl.col("q")).abs() > 1e-6).is_empty()


def test_scenarios_are_ordered_and_the_grid_has_a_row_per_scenario(demo):
    path = demo["sop"].warehouse_path
    grid = query(path, "SELECT * FROM sop.scenario_summary WHERE cycle = ?", [CYCLE])
    assert grid["scenario"].to_list() == ["cautious", "central", "ambitious"]
    demand = dict(zip(grid["scenario"], grid["demand_units"], strict=True))
    assert demand["cautious"] <= demand["central"] <= demand["ambitious"]
    plan = query(path, "SELECT sum(consensus) AS units FROM sop.demand_plan WHERE cycle = ? AND is_current", [CYCLE])
    assert demand["central"] == pytest.approx(plan["units"][0])  # central is the locked consensus
    assert (grid["service_level"].is_between(0, 1)).all()
    projection = query(path, "SELECT scenario, sum(demand) AS d FROM sop.inventory_projection WHERE cycle = ? "
                             "GROUP BY 1", [CYCLE])
    assert dict(projection.iter_rows()) == pytest.approx(demand)


def test_plan_is_consensus_of_forecast_events_and_overrides(demo):
    path = demo["sop"].warehouse_path
    plan = query(path, "SELECT * FROM sop.demand_plan WHERE cycle = ? AND is_current", [CYCLE])
    forecast = query(path, "SELECT sku, month, p50 FROM sop.forecast WHERE cycle = ?", [CYCLE])
    joined = plan.join(forecast, on=["sku", "month"])
    assert joined.height == plan.height == forecast.height
    assert joined.filter(pl.col("forecast") != pl.col("p50")).is_empty()
    total = pl.col("forecast") + pl.col("event_uplift") + pl.col("override_units")
    assert plan.filter((pl.col("consensus") - total.clip(lower_bound=0)).abs() > 1e-6).is_empty()
    assert plan.filter(~((pl.col("p10") <= pl.col("consensus")) & (pl.col("consensus") <= pl.col("p90")))).is_empty()
    overridden = plan.filter(pl.col("override_type").is_not_null())
    assert overridden.height > 0 and overridden.filter(pl.col("override_reason").is_null()
                                                       | pl.col("override_owner").is_null()).is_empty()
    fences = dict(plan.group_by("horizon_month").agg(pl.col("time_fence").unique()).iter_rows())
    # Defaults SOP_FROZEN_MONTHS=2, SOP_FLEXIBLE_MONTHS=6: months 1-2 frozen, 3-6 flexible, 7 on strategic.
    assert [fences[m] for m in (1, 2, 3, 6, 7, 12)] == [["frozen"], ["frozen"], ["flexible"], ["flexible"],
                                                        ["strategic"], ["strategic"]]
    # The plan takes each month's fence from the fact base's calendar, the one definition.
    calendar = query(path, "SELECT month, time_fence FROM marts.dim_calendar WHERE cycle = ? AND NOT is_history",
                     [CYCLE])
    fenced = plan.join(calendar, on="month", suffix="_calendar")
    assert fenced.height == plan.height
    assert fenced.filter(pl.col("time_fence") != pl.col("time_fence_calendar")).is_empty()


def test_plan_vs_actual_scores_the_previous_cycles_plan_on_its_actuals(demo):
    path = demo["sop"].warehouse_path
    scored = query(path, "SELECT * FROM sop.plan_vs_actual WHERE cycle = ?", [CYCLE])
    assert scored["plan_cycle"].unique().to_list() == [PREVIOUS]
    assert scored["month"].unique().to_list() == [PREVIOUS] and scored["lag"].unique().to_list() == [1]
    october_plan = query(path, "SELECT sku, forecast, consensus FROM sop.demand_plan "
                               "WHERE cycle = ? AND is_current AND month = ?", [PREVIOUS, PREVIOUS])
    actuals = query(path, "SELECT sku, sum(units) AS units FROM marts.fct_demand_monthly WHERE month = ? GROUP BY 1",
                    [PREVIOUS])
    expected = october_plan.join(actuals, on="sku", how="left").with_columns(pl.col("units").fill_null(0.0))
    got = scored.join(expected, on="sku", suffix="_plan")
    assert got.height == october_plan.height
    assert got.filter((pl.col("actual") != pl.col("units")) | (pl.col("consensus") != pl.col("consensus_plan"))
                      | (pl.col("forecast") != pl.col("forecast_plan"))).is_empty()
    accuracy = query(path, "SELECT * FROM sop.plan_accuracy WHERE cycle = ? AND segment_type = 'total'", [CYCLE])
    assert accuracy.height == 1 and accuracy["fva_consensus_vs_forecast"][0] == pytest.approx(
        accuracy["wmape_forecast"][0] - accuracy["wmape_consensus"][0])


def test_kpi_history_holds_both_cycles_and_scores_octobers_locked_plan(demo):
    path = demo["sop"].warehouse_path
    history = query(path, "SELECT * FROM sop.kpi_history")
    assert set(history["cycle"].unique()) == {PREVIOUS, CYCLE}
    november = history.filter(pl.col("cycle") == CYCLE)
    # Facts KPIs cover the history from the first run: every month of the demo's stock counts before the cycle.
    fill = november.filter(pl.col("kpi") == "fill_rate")
    assert fill["period"].max() == PREVIOUS and fill.height >= 24
    assert fill["value"].is_between(0, 1).all()
    # The locked-plan KPI of October at lag 1 is October's plan against October's actuals (plan_accuracy's total).
    wmape = november.filter((pl.col("kpi") == "wmape") & (pl.col("lag") == 1)).row(0, named=True)
    accuracy = query(path, "SELECT wmape_consensus FROM sop.plan_accuracy WHERE cycle = ? AND segment_type = 'total' "
                           "AND lag = 1", [CYCLE])
    assert (wmape["period"], wmape["plan_cycle"]) == (PREVIOUS, PREVIOUS)
    assert wmape["value"] == pytest.approx(accuracy["wmape_consensus"][0], rel=1e-12)
    assert history.filter((pl.col("cycle") == PREVIOUS) & (pl.col("source") == "locked plans")
                          & pl.col("value").is_not_null()).is_empty()  # October had no earlier plan to score


def test_last_meetings_decisions_are_followed_up_in_the_log_the_summary_and_the_pack(demo):
    from sop_pipeline.pack.page import pack_path

    sop: SopConfig = demo["sop"]
    landed = pl.read_csv(demo["landing"] / "decisions" / "decisions.csv", try_parse_dates=True)
    log = query(sop.warehouse_path, "SELECT * FROM sop.decisions WHERE cycle = ? ORDER BY decision_id", [CYCLE])
    assert log["decision_id"].to_list() == sorted(landed.filter(pl.col("cycle") <= CYCLE)["decision_id"].to_list())
    last = log.filter(pl.col("is_from_last_cycle"))
    assert last["decided_cycle"].unique().to_list() == [PREVIOUS] and last.height == landed.filter(
        pl.col("cycle") == PREVIOUS).height
    overdue = landed.filter(~pl.col("status").is_in(["done", "dropped"]) & (pl.col("due_date") < CYCLE))
    assert sorted(log.filter(pl.col("is_overdue"))["decision_id"].to_list()) == sorted(overdue["decision_id"])
    html = pack_path(sop.home_path, CYCLE).read_text(encoding="utf-8")
    section = html.split('<section id="follow-up">')[1].split("</section>")[0]
    assert all(d in section for d in last["decision_id"]) and "overdue" in section


PACK_CHARTS = ("bridge", "scorecard", "replay", "demand", "inventory", "cash", "capacity", "kpis")
BRIDGE_MEASURES = ("demand_units", "demand_value", "purchase_value", "peak_cash_need", "peak_inventory_cash_need")


def test_the_plan_bridge_goes_from_octobers_plan_to_novembers_and_its_causes_add_up(demo):
    path = demo["sop"].warehouse_path
    bridge = query(path, "SELECT * FROM sop.plan_bridge WHERE cycle = ?", [CYCLE])
    assert query(path, "SELECT count(*) AS n FROM sop.plan_bridge WHERE cycle = ?", [PREVIOUS])["n"][0] == 0
    plans = query(path, "SELECT cycle, family, sum(consensus) AS units FROM sop.demand_plan WHERE is_current "
                        "GROUP BY ALL")
    for family, rows in bridge.group_by("family"):
        level = {r["cause"]: r for r in rows.filter(pl.col("is_level")).iter_rows(named=True)}
        for measure in BRIDGE_MEASURES:
            if level["current_plan"][measure] is None:
                continue
            causes = rows.filter(~pl.col("is_level"))[measure].sum()
            change = level["current_plan"][measure] - level["previous_plan"][measure]
            assert causes == pytest.approx(change, rel=1e-9, abs=1e-6), (family, measure)
        wanted = plans if family[0] is None else plans.filter(pl.col("family") == family[0])
        for cause, cycle in (("previous_plan", PREVIOUS), ("current_plan", CYCLE)):
            assert level[cause]["demand_units"] == pytest.approx(
                wanted.filter(pl.col("cycle") == cycle)["units"].sum(), rel=1e-9), (family, cause)
    total = bridge.filter(pl.col("family").is_null()).sort("cause")
    families = bridge.filter(pl.col("family").is_not_null()).group_by("cause").agg(
        pl.col("demand_units").sum()).sort("cause")
    assert total["demand_units"].to_list() == pytest.approx(families["demand_units"].to_list(), rel=1e-9, abs=1e-6)
    supply = bridge.filter(pl.col("family").is_null() & (pl.col("cause") == "current_plan"))
    orders = query(path, "SELECT sum(order_value) AS v FROM sop.planned_orders WHERE cycle = ? AND scenario = 'central'",
                   [CYCLE])
    assert supply["purchase_value"][0] == pytest.approx(orders["v"][0], rel=1e-9)


def test_the_pack_is_written_and_published_self_contained_and_small(demo):
    from sop_pipeline.pack.page import pack_path

    sop: SopConfig = demo["sop"]
    page = pack_path(sop.home_path, CYCLE)
    html = page.read_text(encoding="utf-8")
    exported = sop.exports_path / f"cycle={CYCLE.isoformat()}" / "executive_pack.html"
    assert exported.read_bytes() == page.read_bytes()
    assert page.stat().st_size < 2_000_000
    assert "<script" not in html and "@import" not in html and "url(" not in html
    # Only the SVG namespaces name a web address; nothing is fetched from one.
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for section in ("summary", "decisions", "scenarios", "bridge", "scorecard", "replay", "charts", "since"):
        assert f'<section id="{section}">' in html
    assert "could not be built" not in html  # no section failed on the demo
    assert "first cycle: no bridge yet" not in html
    assert html.count('<figure class="chart"') == len(PACK_CHARTS)


@pytest.mark.browser
def test_the_pack_renders_in_a_browser_with_the_tables_numbers(demo, tmp_path):
    from sop_pipeline.pack import fmt
    from sop_pipeline.pack.page import pack_path

    sop: SopConfig = demo["sop"]
    path = sop.warehouse_path

    def inspect(report):
        page = report.page
        return {
            "errors": report.console_errors, "requests": report.requests,
            "sizes": element_sizes(page, "figure.chart svg"),
            "classes": [page.get_attribute(f"#chart-{key}", "class") for key in PACK_CHARTS],
            "text": {section: page.inner_text(f"#{section}") for section in ("summary", "scenarios", "bridge",
                                                                             "decisions")},
            "a4": pdf_pages(page, "A4"), "letter": pdf_pages(page, "Letter"),
            "shot": screenshot(page, tmp_path / "pack.png").stat().st_size,
        }

    seen = inspect_in_browser(pack_path(sop.home_path, CYCLE), inspect)
    assert seen["errors"] == [] and seen["requests"] == []
    assert len(seen["sizes"]) == len(PACK_CHARTS) and all(w > 100 and h > 50 for w, h in seen["sizes"]), seen["sizes"]
    assert seen["classes"] == ["chart"] * len(PACK_CHARTS)
    units = query(path, "SELECT sum(consensus) AS u FROM sop.demand_plan WHERE cycle = ? AND is_current", [CYCLE])
    assert fmt.units(units["u"][0]) in seen["text"]["summary"]
    verdict = query(path, "SELECT DISTINCT verdict FROM sop.replay_summary WHERE cycle = ?", [CYCLE])["verdict"]
    assert verdict.len() == 1 and verdict[0] in seen["text"]["summary"]
    grid = query(path, "SELECT scenario, service_level, demand_units FROM sop.scenario_summary WHERE cycle = ?", [CYCLE])
    for row in grid.iter_rows(named=True):
        assert fmt.pct(row["service_level"]) in seen["text"]["scenarios"]
        assert fmt.units(row["demand_units"]) in seen["text"]["scenarios"]
    bridge = query(path, "SELECT cause, demand_units FROM sop.plan_bridge WHERE cycle = ? AND family IS NULL "
                         "AND is_level ORDER BY cause_order", [CYCLE])
    assert all(fmt.units(value) in seen["text"]["bridge"] for value in bridge["demand_units"])
    top = query(path, "SELECT severity FROM sop.exceptions WHERE cycle = ? AND scenario = 'central' "
                      "ORDER BY severity DESC LIMIT 1", [CYCLE])
    assert fmt.money(top["severity"][0], sop.currency) in seen["text"]["decisions"]
    assert seen["a4"] >= 2 and seen["letter"] >= 2 and seen["shot"] > 10_000


def _approve(sop: SopConfig, *args: str) -> int:
    """`sop approve --cycle 2026-11 ARGS` in this process, on `sop`'s home and landing folder."""
    from sop_pipeline.cli import main

    saved = dict(os.environ)
    try:
        os.environ.update(sop.env())
        return main(["approve", "--cycle", "2026-11", *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _versions(path: Path) -> list[tuple]:
    return query(path, "SELECT DISTINCT version, is_current, plan_state, approved_by, approved_scenario "
                       "FROM sop.demand_plan WHERE cycle = ? ORDER BY version", [CYCLE]).rows()


def _version_digest(path: Path, version: int) -> str:
    rows = query(path, "SELECT * EXCLUDE (is_current) FROM sop.demand_plan WHERE cycle = ? AND version = ? "
                       "ORDER BY sku, month", [CYCLE, version])
    return hashlib.sha256(rows.write_csv().encode()).hexdigest()


@pytest.mark.xdist_group("e2e_approve")  # minutes of runs on its own copy: beside the module
def test_a_draft_is_approved_and_no_rerun_or_relock_rewrites_the_approved_version(demo, tmp_path, capsys):
    """Draft → approved → (override edited, rerun: unchanged) → relock: a draft beside it → re-approved."""
    sop: SopConfig = demo["sop"]
    landing, home = tmp_path / "landing", tmp_path / "home"
    shutil.copytree(demo["landing"], landing)
    shutil.copytree(sop.home_path, home, ignore=shutil.ignore_patterns("dagster", ".run.lock"))
    # No plan replay in these reruns: the walk is about plan versions, and the replay reads none of them.
    copy = SopConfig.from_env(env=sop.env(), home=str(home), data_dir=str(landing), replay_months=0)
    warehouse = home / "warehouse.duckdb"
    assert _versions(warehouse) == [(1, True, "draft", None, None)]  # the fixture's two runs: one draft
    october = query(warehouse, "SELECT DISTINCT plan_state, approved_by FROM sop.demand_plan WHERE cycle = ? "
                               "AND is_current", [PREVIOUS]).rows()
    assert october == [("approved", "ceo.anna")]  # approved by the demo's approvals/ file

    before = table_digests(warehouse, ("sop",), cycle=CYCLE)
    assert _approve(copy, "--scenario", "optimistic", "--by", "anna") == 2
    assert _approve(copy, "--scenario", "central", "--by", " ") == 2
    assert "not a scenario" in capsys.readouterr().err
    assert table_digests(warehouse, ("sop",), cycle=CYCLE) == before  # nothing changed

    assert _approve(copy, "--scenario", "central", "--by", "anna", "--note", "Central plan") == 0
    assert _versions(warehouse) == [(1, False, "draft", None, None), (2, True, "approved", "anna", "central")]
    approved = _version_digest(warehouse, 2)
    summary = capsys.readouterr().out
    assert "approved by anna on 2026-11-21 (scenario central)" in summary
    pack = (home / "pack" / f"cycle={CYCLE.isoformat()}" / "index.html").read_text()
    assert "approved by anna on 21 Nov 2026 (scenario central)" in pack

    overrides_file = landing / "overrides" / "overrides.csv"
    overrides = pl.read_csv(overrides_file, infer_schema=False)
    row = overrides.with_row_index().filter((pl.col("cycle") == CYCLE.isoformat()) & (pl.col("sku") != ""))
    index, sku, month = row["index"][0], row["sku"][0], row["month"][0]
    overrides.with_columns(pl.when(pl.int_range(pl.len()) == index).then(pl.lit("12345")).otherwise(
        pl.col("quantity")).alias("quantity")).write_csv(overrides_file)
    assert _rerun(copy, CYCLE)
    assert _versions(warehouse)[-1] == (2, True, "approved", "anna", "central")
    assert _version_digest(warehouse, 2) == approved
    warning = [line for line in capsys.readouterr().out.splitlines() if "overrides_match_the_locked_plan" in line]
    assert len(warning) == 1 and "sop run --cycle 2026-11 --relock" in warning[0], warning
    assert "sop approve --cycle 2026-11" in warning[0]

    assert _rerun(copy, CYCLE, relock=True)
    assert _versions(warehouse) == [(1, False, "draft", None, None), (2, True, "approved", "anna", "central"),
                                    (3, False, "draft", None, None)]
    assert _version_digest(warehouse, 2) == approved

    def central_demand() -> list[float]:
        return query(warehouse, "SELECT demand FROM sop.inventory_projection WHERE cycle = ? AND scenario = 'central' "
                     "AND sku = ? AND CAST(month AS VARCHAR) = ?", [CYCLE, sku, month])["demand"].to_list()

    assert central_demand() != [12345.0]  # the approved plan still rules
    assert _approve(copy, "--scenario", "cautious", "--by", "ben") == 0
    assert _versions(warehouse)[1:] == [(2, False, "approved", "anna", "central"), (3, False, "draft", None, None),
                                        (4, True, "approved", "ben", "cautious")]
    assert _version_digest(warehouse, 2) == approved
    plan = query(warehouse, "SELECT * FROM sop.demand_plan WHERE cycle = ? AND version = 4 AND sku = ? "
                            "AND CAST(month AS VARCHAR) = ?", [CYCLE, sku, month])
    assert plan["consensus"].to_list() == [12345.0] and plan["executive_demand"][0] <= 12345.0
    assert '"demand_quantile": 0.25' in plan["scenario_assumptions"][0]
    assert central_demand() == [12345.0]  # supply recomputed from the re-approved plan


def test_re_running_the_scenarios_alone_keeps_the_lock_and_gives_the_same_tables(demo):
    sop: SopConfig = demo["sop"]
    before = table_digests(sop.warehouse_path, ("sop",))
    assert _rerun(sop, CYCLE, scenarios_only=True)
    assert table_digests(sop.warehouse_path, ("sop",)) == before


# The cut of a landing folder at a cycle start: what its files held on that day. Actuals dated on or after it
# are dropped, and purchase-order receipts since then are rolled back (the line was open on that day).
ACTUALS_CUT = {
    "sales": "order lines dated on or after the cycle start",
    "inventory": "stock counts dated on or after the cycle start",
    "missing_months": "gaps in months on or after the cycle start",
    "purchase_orders": "lines placed on or after the cycle start; receipts since then rolled back",
    "cash_position": "cash balances dated on or after the cycle start",
}
# What the cut keeps whole, with why. Taken as they stand today (docs/operations.md, "How to run a cycle"): the files
# cannot date a change to them, so both copies hold the same rows and no published table is left out of
# the comparison for them.
AS_THEY_STAND_TODAY = {
    "products": "the product master has no history: launches, discontinuations, prices and status as of now",
    "purchase_orders": "cancelled lines: a cancellation carries no date, so a line cancelled since stays cancelled",
    "suppliers": "capacity and payment terms carry no date",
    "payment_terms": "customer terms carry no date",
    "decisions": "the log's statuses carry no date; decisions of later meetings are left out by their `cycle`",
}
# Plans, not actuals: written before the months they are about, so every cycle legitimately reads them whole
# (overrides of later cycles are ignored by their `cycle` column).
PLANS = {
    "events": "promotions and launches are planned ahead of the months they touch",
    "overrides": "a cycle's overrides are written before its meeting",
    "budget": "the year's targets are set before the year",
    "approvals": "a cycle's approval is made at its own meeting; a run applies only those of its cycle",
    "opex": "operating expenses are budgeted ahead of their months",
    "payables": "known obligations are written down before they fall due",
}


def _cut_landing(landing: Path, cycle: date) -> None:
    """`landing` as its files stood on the first day of `cycle` (ACTUALS_CUT), in place."""
    start = cycle.isoformat()

    def rewrite(dataset: str, change) -> None:
        for target in (landing / dataset).glob("*.csv"):
            change(pl.read_csv(target, infer_schema=False)).write_csv(target)

    rewrite("sales", lambda f: f.filter(pl.col("date") < start))
    rewrite("inventory", lambda f: f.filter(pl.col("snapshot_date") < start))
    rewrite("missing_months", lambda f: f.filter(pl.col("month") < start))
    rewrite("cash_position", lambda f: f.filter(pl.col("as_of") < start))
    received_since = pl.col("received_date").is_not_null() & (pl.col("received_date") >= start)
    rewrite("purchase_orders", lambda f: f.filter(pl.col("order_date") < start).with_columns(
        pl.when(received_since).then(pl.lit("open")).otherwise(pl.col("status")).alias("status"),
        pl.when(received_since).then(pl.lit("0")).otherwise(pl.col("received_quantity")).alias("received_quantity"),
        pl.when(received_since).then(pl.lit(None, pl.String)).otherwise(pl.col("received_date")).alias("received_date"),
    ))


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted by every column, floats last: a float's last bits (summation order) must not reorder rows."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    others = [name for name in frame.columns if name not in floats]
    return frame.sort([*others, *floats], nulls_last=True)


def _same_table(left: pl.DataFrame, right: pl.DataFrame) -> bool:
    """Same columns, types and rows. A leak moves a number by units; the order of a float sum moves its last
    bits, which is no leak."""
    try:
        assert_frame_equal(_canonical(left), _canonical(right), rel_tol=1e-9, abs_tol=1e-6)
    except AssertionError:
        return False
    return True


def _published_tables_of(sop: SopConfig, cycle: date) -> dict[str, pl.DataFrame]:
    """Every published table of `cycle`: each sop table's rows of the cycle and every mart as the cycle's
    run exported it (the warehouse's marts belong to the last cycle run on that home)."""
    exported = sop.exports_path / f"cycle={cycle.isoformat()}"
    tables = {}
    with connect(sop.warehouse_path, read_only=True) as con:
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema IN ('sop', 'marts') AND table_type = 'BASE TABLE' ORDER BY 1, 2"
        ).fetchall():
            tables[f"{schema}.{name}"] = (
                pl.read_parquet(exported / f"{name}.parquet") if schema == "marts" else
                fetch_frame(con, f"SELECT * FROM {qualified(schema, name)} WHERE cycle = ?", [cycle])
            )
    return tables


@pytest.mark.xdist_group("e2e_cut")  # minutes of runs on its own copy: beside the module
def test_a_cycle_run_on_data_that_holds_later_months_plans_as_if_the_data_were_cut(demo, tmp_path):
    """October on November's files (the fixture) publishes the same tables as October on files cut at its
    start: nothing dated on or after the cycle start reaches any of them."""
    assert set(ACTUALS_CUT) | set(AS_THEY_STAND_TODAY) | set(PLANS) == {d.name for d in DATASETS}, (
        "a new input must be classified: cut at the cycle start, taken as it stands today, or a plan")
    cut = tmp_path / "landing"
    shutil.copytree(demo["landing"], cut)
    _cut_landing(cut, PREVIOUS)
    fresh = SopConfig.from_env(env=demo["sop"].env(), home=str(tmp_path / "home"), data_dir=str(cut))
    assert _rerun(fresh, PREVIOUS)

    # The fixture ran October first on its home, so no earlier plan shapes its October tables either.
    uncut, on_cut = _published_tables_of(demo["sop"], PREVIOUS), _published_tables_of(fresh, PREVIOUS)
    assert set(uncut) == set(on_cut)
    assert {f"marts.{mart}" for mart in MARTS} | {"sop.forecast", "sop.demand_plan", "sop.inventory_projection",
                                                 "sop.cash_plan", "sop.scenario_summary"} <= set(uncut)
    assert uncut["sop.demand_plan"].height > 0 and uncut["marts.fct_open_supply"].height > 0
    assert [name for name in sorted(uncut) if not _same_table(on_cut[name], uncut[name])] == []


def _drop_column(frame: pl.DataFrame, column: str, _row: int) -> pl.DataFrame:
    return frame.drop(column)


def _set_cell(value: str):
    def mutate(frame: pl.DataFrame, column: str, row: int) -> pl.DataFrame:
        frame = frame.cast(pl.String)
        return frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        )
    return mutate


def _copy_key(frame: pl.DataFrame, column: str, row: int) -> pl.DataFrame:
    frame = frame.cast(pl.String)
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.col(column).first()).otherwise(pl.col(column)).alias(column)
    )


# (case, data set, column, row index, mutation, rule the message must name)
BAD_INPUTS = [
    ("negative quantity", "sales", "quantity", 5, _set_cell("-3"), "must be >= 0"),
    ("unknown SKU", "sales", "sku", 7, _set_cell("NOT-A-SKU"), "unknown SKU"),
    ("duplicate key", "products", "sku", 3, _copy_key, "duplicate key (sku)"),
    ("unparsable date", "inventory", "snapshot_date", 2, _set_cell("2026-02-30"), "unparsable date"),
    ("future-dated sale", "sales", "date", 9, _set_cell("2027-01-15"), "future-dated"),
    ("missing required column", "purchase_orders", "unit_cost", 0, _drop_column, "missing required column"),
    ("wrong type", "products", "unit_price", 1, _set_cell("twelve"), "wrong type"),
]


@pytest.mark.parametrize("case,dataset,column,row,mutate,rule", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_fails_the_run_and_leaves_the_last_good_tables(demo, tmp_path, capsys, case, dataset, column, row, mutate, rule):
    sop: SopConfig = demo["sop"]
    bad = tmp_path / "landing"
    shutil.copytree(demo["landing"], bad)
    target = bad / dataset / f"{dataset}.csv"
    mutate(pl.read_csv(target, infer_schema=False), column, row).write_csv(target)
    before = table_digests(sop.warehouse_path, ("raw", "marts", "sop")), table_digests(sop.serving_path, ("marts", "sop"))
    serving_mtime = sop.serving_path.stat().st_mtime_ns
    ok = _rerun(SopConfig.from_env(env=sop.env(), data_dir=str(bad)), CYCLE)
    err = capsys.readouterr().err
    assert not ok
    assert f"{dataset}/{dataset}.csv" in err and f"column {column!r}" in err and rule in err, err
    assert (table_digests(sop.warehouse_path, ("raw", "marts", "sop")),
            table_digests(sop.serving_path, ("marts", "sop"))) == before
    assert sop.serving_path.stat().st_mtime_ns == serving_mtime
    issues = query(sop.warehouse_path, "SELECT * FROM quality.data_quality_issues WHERE cycle = ?", [CYCLE.isoformat()])
    assert issues.filter((pl.col("column") == column) & pl.col("rule").str.contains(rule, literal=True)).height >= 1


def test_the_grid_shows_each_scenarios_lowest_balance_and_funding_need(demo):
    grid = query(demo["sop"].warehouse_path, "SELECT scenario, lowest_cash_balance, credit_line, funding_need, "
                 "runway_months, cash_basis FROM sop.scenario_summary WHERE cycle = ? ORDER BY scenario", [CYCLE])
    assert grid.height == 3
    for row in grid.iter_rows(named=True):
        assert row["funding_need"] == pytest.approx(max(0.0, -(row["lowest_cash_balance"] + row["credit_line"])))
        assert (row["runway_months"] is None) == (row["funding_need"] == 0.0)
        assert row["cash_basis"].startswith("opening cash as of 2026-10-31")


def test_every_month_of_the_cash_plan_balances(demo):
    cash = query(demo["sop"].warehouse_path, "SELECT * FROM sop.cash_plan WHERE cycle = ? ORDER BY scenario, month",
                 [CYCLE])
    assert cash["closing_balance"].null_count() == 0
    paid = pl.col("po_payments") + pl.col("opex") + pl.col("other_payables")
    gap = (pl.col("opening_balance") + pl.col("collections") - paid - pl.col("closing_balance")).abs()
    assert cash.select(gap.max()).item() < 1e-6
    following = cash.with_columns(pl.col("closing_balance").shift(1).over("scenario").alias("previous"))
    assert following.filter(pl.col("previous").is_not_null() & (pl.col("previous") != pl.col("opening_balance"))).is_empty()
    assert (cash.group_by("scenario").agg(pl.col("is_lowest_balance").sum())["is_lowest_balance"] == 1).all()
    # The October cycle opens at the September month-end's cash: its own, not November's.
    october = query(demo["sop"].warehouse_path, "SELECT cash_basis FROM sop.cash_plan WHERE cycle = ? LIMIT 1",
                    [PREVIOUS])
    assert october["cash_basis"][0].startswith("opening cash as of 2026-09-30")


def test_the_ambitious_scenario_needs_funding_and_the_cautious_one_does_not(demo):
    from sop_pipeline.scenarios import load_scenarios

    grid = query(demo["sop"].warehouse_path, "SELECT scenario, revenue, opex, lowest_cash_balance, credit_line, "
                 "funding_need FROM sop.scenario_summary WHERE cycle = ?", [CYCLE])
    row = {r["scenario"]: r for r in grid.iter_rows(named=True)}
    assert row["cautious"]["funding_need"] == 0.0
    assert row["ambitious"]["funding_need"] > 0.0
    assert row["ambitious"]["lowest_cash_balance"] < row["cautious"]["lowest_cash_balance"]
    # Ambitious pays for its growth first: its opex is the landed opex times its multiplier, plus its launch spend
    # (a share of its own revenue, all of it inside the horizon); the landed opex is central's, without its levers.
    scenarios = {s.name: s for s in load_scenarios()}
    ambitious, central = scenarios["ambitious"], scenarios["central"]
    assert max(ambitious.launch_months, central.launch_months) <= demo["sop"].horizon
    landed = (row["central"]["opex"] - central.launch_revenue_share * row["central"]["revenue"]) / central.opex_multiplier
    assert row["ambitious"]["opex"] == pytest.approx(
        landed * ambitious.opex_multiplier + ambitious.launch_revenue_share * row["ambitious"]["revenue"])


def test_the_funding_need_falls_as_the_credit_line_grows(demo):
    from sop_pipeline.finance.cash import cash_balance, funding_need, lowest_balance, runway_months

    path = demo["sop"].warehouse_path
    cash = query(path, "SELECT horizon_month AS month, collections, po_payments, opex, other_payables, "
                 "opening_balance FROM sop.cash_plan WHERE cycle = ? AND scenario = 'ambitious' ORDER BY month",
                 [CYCLE])
    grid = query(path, "SELECT credit_line, funding_need FROM sop.scenario_summary WHERE cycle = ? "
                 "AND scenario = 'ambitious'", [CYCLE]).row(0, named=True)
    # The ambitious scenario's own months, from its own opening cash, under wider and wider credit lines.
    balance = cash_balance(cash.drop("opening_balance"), cash["opening_balance"][0])
    lowest = lowest_balance(balance).balance
    assert funding_need(lowest, grid["credit_line"]) == pytest.approx(grid["funding_need"])
    lines = sorted({0.0, grid["credit_line"], -lowest / 2, -lowest, -lowest * 2})
    needs = [funding_need(lowest, line) for line in lines]
    assert needs[0] > 0.0 and needs[-1] == 0.0
    assert all(a > b for a, b in zip(needs, needs[1:]) if a > 0)  # falls while there is a need, then stays at 0
    assert all(b == 0.0 for a, b in zip(needs, needs[1:]) if a == 0)
    # Runway grows with the line too, until a line that covers the low point never runs out (None).
    runways = [runway_months(balance, line) for line in lines]
    assert runways[0] is not None and runways[-1] is None
    months = [float("inf") if r is None else r for r in runways]
    assert months == sorted(months)


def test_backfilling_an_older_cycle_exports_it_but_keeps_the_newer_serving_copy(demo):
    """Runs last: it leaves the warehouse on the older cycle."""
    from sop_pipeline.publish import published_cycle

    sop: SopConfig = demo["sop"]
    serving_before = table_digests(sop.serving_path, ("marts",))
    assert _rerun(sop, PREVIOUS)
    assert published_cycle(sop.serving_path) == CYCLE.isoformat()
    assert table_digests(sop.serving_path, ("marts",)) == serving_before
    october = pl.read_parquet(sop.exports_path / f"cycle={PREVIOUS.isoformat()}" / "fct_demand_monthly.parquet")
    assert october["month"].max() == date(2026, 9, 1)
    assert october.sort(october.columns).equals(demo["october"]["demand"].sort(october.columns))
