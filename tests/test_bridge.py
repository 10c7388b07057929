"""The plan bridge, computed by hand on two tiny cycles: every cause, the identity, and the supply walk.

Cycle Oct plans Oct–Dec, cycle Nov plans Nov–Jan (a 3-month horizon): the overlap is Nov and Dec.
SKUs a and b (family F) are in both plans, c (family G) only in October's, d (family G) only in November's.
"""

from dataclasses import replace
from datetime import date

import polars as pl
import pytest

import sop_pipeline.pack.bridge as bridge_module
from sop_pipeline.pack.bridge import (
    CAUSES,
    PLAN_BRIDGE_SCHEMA,
    SURPRISE_CARRY,
    SupplyLevel,
    demand_bridge,
    record_plan_prices,
    sku_causes,
    supply_bridge,
    supply_level,
    walk_states,
    with_supply_bridge,
)
from sop_pipeline.scenarios import Scenario
from sop_pipeline.scenario_run import SupplyInputs, run_scenario
from sop_pipeline.warehouse import connect, fetch_frame

OCT, NOV, DEC, JAN = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)
FAMILY = {"a": "F", "b": "F", "c": "G", "d": "G"}


def plan(rows: list[tuple]) -> pl.DataFrame:
    """(sku, month, forecast, event_uplift, override_units, consensus) rows, with a ±50 % band."""
    frame = pl.DataFrame(rows, schema={"sku": pl.String, "month": pl.Date, "forecast": pl.Float64,
                                       "event_uplift": pl.Float64, "override_units": pl.Float64,
                                       "consensus": pl.Float64}, orient="row")
    return frame.with_columns(
        pl.col("sku").replace_strict(FAMILY).alias("family"),
        (pl.col("consensus") * 0.5).alias("p10"), (pl.col("consensus") * 1.5).alias("p90"),
    )


PREVIOUS = plan([
    ("a", OCT, 10, 0, 0, 10), ("a", NOV, 10, 2, 0, 12), ("a", DEC, 10, 0, 1, 11),
    ("b", OCT, 20, 0, 0, 20), ("b", NOV, 20, 0, 0, 20), ("b", DEC, 20, 0, 0, 20),
    ("c", OCT, 5, 0, 0, 5), ("c", NOV, 5, 0, 0, 5), ("c", DEC, 5, 0, 0, 5),
])
CURRENT = plan([
    ("a", NOV, 13, 3, 0, 16), ("a", DEC, 13, 0, 2, 15), ("a", JAN, 12, 0, 0, 12),
    # 18 + 0 − 25 < 0: the consensus is clamped at 0, 7 units the causes do not explain.
    ("b", NOV, 18, 0, -25, 0), ("b", DEC, 19, 0, 0, 19), ("b", JAN, 19, 0, 0, 19),
    ("d", NOV, 4, 0, 0, 4), ("d", DEC, 4, 0, 0, 4), ("d", JAN, 4, 0, 0, 4),
])
# a sold 10 more than forecast, b 10 less; c was out of stock (its zero sales are no surprise).
ACTUALS = pl.DataFrame({"sku": ["a", "b", "c"], "month": [OCT] * 3, "units": [20.0, 10.0, 0.0],
                        "is_stockout": [False, False, True]})
PRICES_THEN = pl.DataFrame({"sku": ["a", "b", "c"], "unit_price": [10.0, 5.0, 2.0], "unit_cost": [4.0, 2.0, 1.0]})
PRICES_NOW = pl.DataFrame({"sku": ["a", "b", "c", "d"], "unit_price": [12.0, 5.0, 2.0, 3.0],
                           "unit_cost": [4.0, 2.0, 1.0, 1.0]})

# By hand, units per cause and family (module docstring of sop_pipeline.pack.bridge):
# a: Δforecast 3 + 3 = 6; carried 0.2 × 10 × 2 = 4 → actuals 4, model 2; events (3 − 2) = 1;
#    overrides (2 − 1) = 1.
# b: Δforecast −2 − 1 = −3; carried 0.2 × −10 × 2 = −4, clipped to −3 → actuals −3, model 0;
#    overrides −25; Δconsensus −21 = −3 − 25 + residual 7.
UNITS = {
    "F": {"previous_plan": 93, "rolled_off": -30, "rolled_on": 31, "actuals": 1, "model": 2, "events": 1,
          "overrides": -24, "new_skus": 0, "discontinued_skus": 0, "price_cost": 0, "stock_and_orders": 0,
          "residual": 7, "current_plan": 81},
    "G": {"previous_plan": 15, "rolled_off": -5, "rolled_on": 4, "actuals": 0, "model": 0, "events": 0,
          "overrides": 0, "new_skus": 8, "discontinued_skus": -10, "price_cost": 0, "stock_and_orders": 0,
          "residual": 0, "current_plan": 12},
}
# Units at last cycle's prices (d, new, at this cycle's), then the price change on this plan's units: a 43 × 2.
VALUE = {
    "F": {"previous_plan": 630, "rolled_off": -200, "rolled_on": 215, "actuals": 25, "model": 20, "events": 10,
          "overrides": -115, "new_skus": 0, "discontinued_skus": 0, "price_cost": 86, "stock_and_orders": 0,
          "residual": 35, "current_plan": 706},
    "G": {"previous_plan": 30, "rolled_off": -10, "rolled_on": 12, "actuals": 0, "model": 0, "events": 0,
          "overrides": 0, "new_skus": 24, "discontinued_skus": -20, "price_cost": 0, "stock_and_orders": 0,
          "residual": 0, "current_plan": 36},
}


def by_cause(frame: pl.DataFrame, family: str | None, measure: str) -> dict[str, float]:
    rows = frame.filter(pl.col("family").is_null() if family is None else pl.col("family") == family)
    return dict(zip(rows["cause"], rows[measure], strict=True))


def assert_adds_up(frame: pl.DataFrame, measures: tuple[str, ...]) -> None:
    for family in [None, *sorted(frame["family"].drop_nulls().unique())]:
        for measure in measures:
            values = by_cause(frame, family, measure)
            causes = sum(v for c, v in values.items() if c not in ("previous_plan", "current_plan"))
            change = values["current_plan"] - values["previous_plan"]
            assert causes == pytest.approx(change, rel=1e-6, abs=1e-6), (family, measure)


@pytest.fixture
def bridge() -> pl.DataFrame:
    return demand_bridge(PREVIOUS, CURRENT, ACTUALS, PRICES_THEN, PRICES_NOW, NOV)


def test_the_bridge_has_the_contract_columns_one_row_per_family_and_cause_total_first(bridge):
    assert bridge.schema == pl.Schema(PLAN_BRIDGE_SCHEMA)
    assert bridge.height == 3 * len(CAUSES)
    assert bridge["family"].to_list()[:len(CAUSES)] == [None] * len(CAUSES)
    assert bridge["cause"].to_list()[:len(CAUSES)] == list(CAUSES)
    assert bridge["cause_order"].to_list()[:3] == [1, 2, 3]
    assert by_cause(bridge, None, "is_level") == {c: c in ("previous_plan", "current_plan") for c in CAUSES}
    assert bridge["cycle"].unique().to_list() == [NOV]
    assert bridge["note"].null_count() == 0


@pytest.mark.parametrize("family", ["F", "G"])
def test_every_cause_in_units_matches_the_hand_computation(bridge, family):
    assert by_cause(bridge, family, "demand_units") == pytest.approx(UNITS[family])


@pytest.mark.parametrize("family", ["F", "G"])
def test_every_cause_in_value_matches_the_hand_computation(bridge, family):
    assert by_cause(bridge, family, "demand_value") == pytest.approx(VALUE[family])


def test_family_rows_sum_to_the_total_row(bridge):
    for measure in ("demand_units", "demand_value"):
        total = by_cause(bridge, None, measure)
        for cause in CAUSES:
            assert total[cause] == pytest.approx(sum(by_cause(bridge, f, measure)[cause] for f in ("F", "G")))
    assert by_cause(bridge, None, "demand_units")["previous_plan"] == 108.0
    assert by_cause(bridge, None, "demand_value")["current_plan"] == 742.0


def test_the_causes_add_up_to_the_change_for_every_family_and_the_total(bridge):
    assert_adds_up(bridge, ("demand_units", "demand_value"))


def test_without_supply_inputs_the_purchase_and_cash_measures_are_null(bridge):
    assert bridge.select("purchase_value", "peak_cash_need", "peak_inventory_cash_need").null_count().row(0) == (
        bridge.height,) * 3


def test_without_last_cycles_prices_both_plans_are_valued_at_this_cycles_and_the_note_says_so():
    bridge = demand_bridge(PREVIOUS, CURRENT, ACTUALS, None, PRICES_NOW, NOV)
    value = by_cause(bridge, None, "demand_value")
    assert value["price_cost"] == 0.0
    assert value["previous_plan"] == 33 * 12 + 60 * 5 + 15 * 2
    assert "no prices recorded" in by_cause(bridge, None, "note")["price_cost"]
    assert_adds_up(bridge, ("demand_units", "demand_value"))


def test_a_cycle_without_a_previous_plan_has_an_empty_bridge():
    empty = demand_bridge(PREVIOUS.clear(), CURRENT, ACTUALS, None, PRICES_NOW, NOV)
    assert empty.is_empty() and empty.schema == pl.Schema(PLAN_BRIDGE_SCHEMA)


@pytest.mark.parametrize(("sold", "stockout", "next_forecast", "actuals", "model"), [
    (20.0, False, 13.0, 4.0, 2.0),    # carried 0.2 × 10 × 2 = 4 of a +6 change
    (20.0, False, 11.0, 2.0, 0.0),    # carried 4 is more than the +2 change: clipped to it
    (0.0, False, 8.0, -4.0, 0.0),     # a −10 surprise carried as −4, clipped to the −4 change
    (0.0, False, 9.0, -2.0, 0.0),     # clipped to −2 in the other direction
    (20.0, False, 8.0, 0.0, -4.0),    # sold more but the forecast fell: nothing explained by actuals
    (0.0, False, 12.0, 0.0, 4.0),     # sold less but the forecast rose: all model
    (0.0, True, 8.0, 0.0, -4.0),      # a stockout month is no surprise
])
def test_actuals_explain_only_the_carried_surprise_in_the_direction_of_the_change(
    sold, stockout, next_forecast, actuals, model,
):
    previous = plan([("a", OCT, 10, 0, 0, 10), ("a", NOV, 10, 0, 0, 10), ("a", DEC, 10, 0, 0, 10)])
    current = plan([("a", NOV, next_forecast, 0, 0, next_forecast), ("a", DEC, next_forecast, 0, 0, next_forecast),
                    ("a", JAN, 10, 0, 0, 10)])
    sales = pl.DataFrame({"sku": ["a"], "month": [OCT], "units": [sold], "is_stockout": [stockout]})
    [row] = sku_causes(previous, current, sales).to_dicts()
    assert SURPRISE_CARRY == 0.2
    assert (row["actuals"], row["model"]) == (pytest.approx(actuals), pytest.approx(model))
    assert row["residual"] == pytest.approx(0.0)


def test_plan_prices_are_recorded_per_cycle_and_a_rerun_replaces_them(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        record_plan_prices(con, OCT, PRICES_THEN)
        record_plan_prices(con, OCT, PRICES_NOW)
        record_plan_prices(con, NOV, PRICES_THEN)
        rows = fetch_frame(con, "SELECT * FROM meta.plan_prices ORDER BY cycle, sku")
    assert rows.columns == ["cycle", "sku", "unit_price", "unit_cost"]
    assert rows.filter(pl.col("cycle") == OCT)["sku"].to_list() == ["a", "b", "c", "d"]
    assert rows.filter(pl.col("cycle") == NOV)["unit_price"].to_list() == [10.0, 5.0, 2.0]


# ---------------------------------------------------------------------------------------------------------
# The supply walk, on a real SupplyInputs of cycle November


def supply_inputs() -> SupplyInputs:
    skus = ["a", "b", "c", "d"]
    return SupplyInputs(
        cycle=NOV,
        horizon=3,
        products=pl.DataFrame({
            "sku": skus, "family": [FAMILY[s] for s in skus], "supplier": ["S", "S", "T", "T"],
            "status": ["active"] * 4, "abc_class": ["A", "B", "C", "C"], "unit_cost": [4.0, 2.0, 1.0, 1.0],
            "unit_price": [12.0, 5.0, 2.0, 3.0], "lead_time_months": [1, 1, 0, 1], "moq": [10, 5, 1, 5],
            "order_multiple": [5, 5, 1, 5], "discontinue_date": [None] * 4,
        }, schema_overrides={"discontinue_date": pl.Date}),
        plan=CURRENT.select("sku", "month", "p10", "consensus", "p90"),
        on_hand=pl.DataFrame({"sku": ["a", "b", "c"], "on_hand": [8.0, 30.0, 2.0]}),
        open_supply=pl.DataFrame({"sku": ["a"], "expected_month": [DEC], "open_units": [10.0], "open_value": [40.0]}),
        suppliers=pl.DataFrame({"supplier": ["S", "T"], "monthly_capacity": [None, None], "deposit_share": [0.3, 0.0],
                                "payment_days": [30, 0]}, schema_overrides={"monthly_capacity": pl.Float64}),
        budget=pl.DataFrame(schema={"month": pl.Date, "family": pl.String, "revenue_target": pl.Float64}),
        safety_stock=pl.DataFrame({"sku": ["a", "b", "d"], "safety_stock": [4.0, 5.0, 2.0]}),
    )


PREVIOUS_LEVEL = SupplyLevel(
    orders=pl.DataFrame({"sku": ["a", "c", "c"], "family": ["F", "G", "G"], "order_value": [120.0, 10.0, 5.0]}),
    peak_cash_need=50.0, peak_inventory_cash_need=80.0,
)


def test_the_walk_starts_from_the_previous_plans_overlap_and_ends_on_this_plan():
    states = walk_states(PREVIOUS, CURRENT)
    assert len(states) == 6
    first = states[0]
    assert first.select("sku", "month", "consensus").rows() == [
        ("a", NOV, 12.0), ("a", DEC, 11.0), ("b", NOV, 20.0), ("b", DEC, 20.0), ("c", NOV, 5.0), ("c", DEC, 5.0),
    ]
    # The band keeps this plan's ratios (0.5 and 1.5), the previous plan's where this one plans nothing (b, c).
    assert (first["p10"] / first["consensus"]).to_list() == [0.5] * 6
    assert states[1].filter(pl.col("month") == JAN)["consensus"].to_list() == [12.0, 19.0, 4.0]  # d too, as in units
    # States 3–5 move a and b only, clipped at zero: b's November is 20 − 2 − 25 < 0 → 0.
    assert states[4].filter(pl.col("sku") == "b")["consensus"].to_list() == [0.0, 19.0, 19.0]
    assert states[4].filter(pl.col("sku") == "a")["consensus"].to_list() == [16.0, 15.0, 12.0]
    assert states[5].equals(CURRENT.select("sku", "month", "p10", "consensus", "p90").sort("sku", "month"))


def test_the_walk_telescopes_to_the_change_and_reproduces_this_cycles_run(monkeypatch):
    inputs, central = supply_inputs(), Scenario("central")
    current_level = supply_level(run_scenario(inputs, central))
    calls = []
    real = bridge_module.run_scenario
    monkeypatch.setattr(bridge_module, "run_scenario", lambda i, s: calls.append(1) or real(i, s))
    supply = supply_bridge(replace(inputs, plan=inputs.plan.clear()), central, PREVIOUS, CURRENT, ACTUALS,
                           PREVIOUS_LEVEL, current_level)
    assert len(calls) == 6
    total = by_cause(supply, None, "purchase_value")
    assert total["previous_plan"] == 135.0
    assert total["current_plan"] == pytest.approx(float(current_level.orders["order_value"].sum()))
    assert total["residual"] == pytest.approx(0.0)  # the last state is this cycle's own run
    assert total["rolled_off"] == 0.0 and total["price_cost"] == 0.0
    peaks = by_cause(supply, None, "peak_inventory_cash_need")
    assert peaks["previous_plan"] == 80.0 and peaks["residual"] == pytest.approx(0.0)
    assert supply.filter(pl.col("family").is_not_null())["peak_cash_need"].null_count() == supply.height - len(CAUSES)
    # Only c (discontinued) and d (new) move in the last step: their own orders.
    g = by_cause(supply, "G", "purchase_value")
    assert g["new_skus"] >= 0.0 >= g["discontinued_skus"]
    assert by_cause(supply, "F", "purchase_value")["new_skus"] == 0.0

    whole = with_supply_bridge(demand_bridge(PREVIOUS, CURRENT, ACTUALS, PRICES_THEN, PRICES_NOW, NOV), supply)
    assert whole.schema == pl.Schema(PLAN_BRIDGE_SCHEMA)
    assert whole.height == 3 * len(CAUSES)
    assert_adds_up(whole, ("demand_units", "demand_value", "purchase_value"))
    total_rows = whole.filter(pl.col("family").is_null())
    assert_adds_up(total_rows, ("peak_cash_need", "peak_inventory_cash_need"))
    for cause in CAUSES:
        assert by_cause(whole, None, "purchase_value")[cause] == pytest.approx(
            sum(by_cause(whole, f, "purchase_value")[cause] for f in ("F", "G")))
    assert by_cause(whole, None, "demand_units") == by_cause(
        demand_bridge(PREVIOUS, CURRENT, ACTUALS, PRICES_THEN, PRICES_NOW, NOV), None, "demand_units")
