"""Reruns publish the same supply, finance and scenario tables to the last bit, whatever order rows arrive in.

Each test feeds one function its input rows in several orders and asserts byte-identical outputs. The
values are chosen so that the order of the additions shows: (0.1 + 0.2) + 0.7 is 1.0 while (0.7 + 0.2) + 0.1
is 0.9999999999999999, in Python and in a polars group sum alike, so a sum that adds rows in the order they
came in fails these tests.
"""

from datetime import date
from itertools import permutations

import polars as pl

from sop_pipeline.finance.cash import budget_gap, collections, monthly_amounts, po_spend
from sop_pipeline.scenario_run import SupplyInputs, company_budget, run_scenario
from sop_pipeline.scenarios import Scenario
from sop_pipeline.supply.capacity import SupplyOrder, capacity_load, level_to_capacity
from sop_pipeline.supply.safety_stock import lead_time_errors

CYCLE = date(2026, 11, 1)
MONTHS = [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
VALUES = (0.1, 0.2, 0.7)  # they add up to 1.0 in ascending order


def test_the_values_really_add_up_differently_by_order():
    """The premise of this file: without it every test below would pass on any code."""
    assert (0.1 + 0.2) + 0.7 != (0.7 + 0.2) + 0.1
    group_sums = {
        pl.DataFrame({"m": [1] * 3, "v": list(order)}).group_by("m").agg(pl.col("v").sum())["v"].item()
        for order in permutations(VALUES)
    }
    assert len(group_sums) == 2


def orders_of(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Every order of a frame's rows (up to 6 rows), else its reverse and six shuffles."""
    if frame.height <= 6:
        return [frame[list(order)] for order in permutations(range(frame.height))]
    return [frame, frame.reverse(), *(frame.sample(fraction=1.0, shuffle=True, seed=s) for s in range(6))]


def csv(frame: pl.DataFrame) -> str:
    """The frame as text: polars writes the shortest repr that reads back as the same float, so two frames
    give the same text exactly when their values are the same bits."""
    return frame.write_csv()


def test_collections_and_monthly_amounts_add_each_months_values_in_a_fixed_order():
    revenue = pl.DataFrame({"sku": ["a", "b", "c", "a"], "month": [1, 1, 1, 2], "revenue": [*VALUES, 1.0]})
    mix = pl.DataFrame({"sku": [None], "channel": ["DTC"], "share": [1.0]}, schema_overrides={"sku": pl.String})
    terms = pl.DataFrame({"channel": ["DTC"], "collection_days": [0]})
    collected = {csv(collections(r, mix, terms)) for r in orders_of(revenue)}
    assert collected == {"month,collections\n1,1.0\n2,1.0\n"}
    payments = pl.DataFrame({"month": [1, 1, 1], "po_payments": list(VALUES)})
    assert {csv(monthly_amounts(p, "po_payments", 2)) for p in orders_of(payments)} == {
        "month,po_payments\n1,1.0\n2,0.0\n"}


def test_po_spend_adds_a_skus_payments_of_one_month_in_a_fixed_order():
    orders = pl.DataFrame(
        [("a", "S", 1, 2, 1.0, cost) for cost in VALUES],
        schema=["sku", "supplier", "release_month", "receipt_month", "quantity", "unit_cost"], orient="row",
    )
    suppliers = pl.DataFrame({"supplier": ["S"], "deposit_share": [0.0], "payment_days": [0.0]})
    results = {csv(po_spend(o, suppliers, horizon=3)) for o in orders_of(orders)}
    assert len(results) == 1
    assert po_spend(orders, suppliers, 3)["po_payments"].to_list() == [(0.1 + 0.2) + 0.7]  # ascending


def test_budget_gap_and_company_budget_add_their_rows_in_a_fixed_order():
    revenue = pl.DataFrame({"family": ["F", "F", "G"], "month": [1, 1, 1], "revenue": list(VALUES)})
    budget = pl.DataFrame({"month": [1, 1, 1], "family": ["F", "G", "H"], "revenue_target": list(VALUES)})
    gaps = {csv(budget_gap(r, b)) for r in orders_of(revenue) for b in orders_of(budget)}
    assert len(gaps) == 1
    dated = budget.with_columns(pl.lit(MONTHS[0]).alias("month"))
    assert len({csv(company_budget(b)) for b in orders_of(dated)}) == 1


def test_capacity_load_and_levelling_add_quantities_in_a_fixed_order():
    receipts = pl.DataFrame({"supplier": ["S"] * 3, "month": [1] * 3, "quantity": list(VALUES)})
    capacity = pl.DataFrame({"supplier": ["S"], "monthly_capacity": [1.0]})
    assert len({csv(capacity_load(r, capacity)) for r in orders_of(receipts)}) == 1
    # Firm POs over a capacity of 0.5: the units left unplaced are the load (1.0, added up) minus 0.5.
    firm = [SupplyOrder.open_po(sku, 1, q) for sku, q in zip("abc", VALUES, strict=True)]
    levelled = {repr(level_to_capacity(list(order), [0.5])) for order in permutations(firm)}
    assert len(levelled) == 1


def test_lead_time_errors_add_the_lags_of_a_window_in_a_fixed_order():
    backtest = pl.DataFrame({
        "sku": ["a"] * 3, "origin": [MONTHS[0]] * 3, "lag": [1, 2, 3],
        "actual": list(VALUES), "forecast": [0.0, 0.0, 0.0],
    })
    lead = pl.DataFrame({"sku": ["a"], "lead_time_months": [3]})
    assert len({csv(lead_time_errors(b, lead)) for b in orders_of(backtest)}) == 1


def company(open_supply: pl.DataFrame, budget: pl.DataFrame, products: pl.DataFrame, plan: pl.DataFrame,
            safety_stock: pl.DataFrame) -> SupplyInputs:
    return SupplyInputs(
        cycle=CYCLE, horizon=3, products=products, plan=plan,
        on_hand=pl.DataFrame({"sku": ["a", "b", "c"], "on_hand": [1.0, 0.0, 2.0]}),
        open_supply=open_supply,
        suppliers=pl.DataFrame({"supplier": ["S"], "monthly_capacity": [100.0], "deposit_share": [0.0],
                                "payment_days": [0]}),
        budget=budget, safety_stock=safety_stock,
    )


PRODUCTS = pl.DataFrame({
    "sku": ["a", "b", "c"], "family": ["F", "F", "G"], "supplier": ["S"] * 3, "status": ["active"] * 3,
    "abc_class": ["A", "B", "C"], "unit_cost": list(VALUES), "unit_price": [1.1, 1.7, 2.3],
    "lead_time_months": [1, 1, 2], "moq": [1] * 3, "order_multiple": [1] * 3, "discontinue_date": [None] * 3,
}, schema_overrides={"discontinue_date": pl.Date})
PLAN = pl.DataFrame({
    "sku": [s for s in "abc" for _ in MONTHS], "month": MONTHS * 3,
    "p10": [0.1] * 9, "consensus": [1.1, 2.2, 3.3, 0.7, 0.9, 1.3, 2.1, 0.3, 0.6], "p90": [9.0] * 9,
})
# Three overdue lines of `a` at costs 0.1, 0.2, 0.7 land in month 1 and are paid together.
OPEN_SUPPLY = pl.DataFrame({
    "sku": ["a", "a", "a", "c"], "expected_month": [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), MONTHS[1]],
    "open_units": [1.0, 1.0, 1.0, 3.0], "open_value": [*VALUES, 0.9],
})
BUDGET = pl.DataFrame({"month": [MONTHS[0]] * 3 + [MONTHS[1]], "family": ["F", "G", "H", "F"],
                       "revenue_target": [*VALUES, 5.0]})
SAFETY = pl.DataFrame({"sku": ["a", "b", "c"], "safety_stock": [0.3, 0.1, 0.2]})


def published(result) -> dict[str, str]:
    tables = {name: csv(getattr(result, name)) for name in (
        "inventory_projection", "planned_orders", "supply_gaps", "capacity_load", "sku_status", "exceptions",
        "cash_plan", "budget_gap")}
    return {**tables, "summary": csv(pl.DataFrame([result.summary]))}


def test_a_scenario_publishes_the_same_bytes_whatever_order_its_inputs_arrive_in():
    cautious = Scenario("cautious", demand_quantile=0.3, demand_multiplier=0.9)
    for scenario in (Scenario("central"), cautious):
        first = published(run_scenario(company(OPEN_SUPPLY, BUDGET, PRODUCTS, PLAN, SAFETY), scenario))
        variants = zip(orders_of(OPEN_SUPPLY), orders_of(BUDGET), orders_of(PRODUCTS) * 4, orders_of(PLAN) * 3,
                       orders_of(SAFETY) * 4, strict=False)
        for open_supply, budget, products, plan, safety in variants:
            again = published(run_scenario(company(open_supply, budget, products, plan, safety), scenario))
            assert again == first, [name for name in first if again[name] != first[name]]
    # The inputs do reach the sums the test is about: the open POs are paid in month 1, the budget is summed.
    cash = run_scenario(company(OPEN_SUPPLY, BUDGET, PRODUCTS, PLAN, SAFETY), Scenario("central")).cash_plan
    assert cash["po_payments"][0] == 1.0 and cash["budget_revenue"][0] == 1.0
