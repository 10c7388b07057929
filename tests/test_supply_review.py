"""The supply review of one scenario, computed by hand on a one-SKU company, then its levers one by one."""

from dataclasses import replace
from datetime import date

import polars as pl
import pytest

from sop_pipeline.scenarios import Scenario
from sop_pipeline.supply.review import SupplyInputs, company_budget, run_scenario

CYCLE = date(2026, 11, 1)
MONTHS = [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]


def inputs(capacity: float = 100.0, on_hand: float = 30.0) -> SupplyInputs:
    return SupplyInputs(
        cycle=CYCLE,
        horizon=3,
        products=pl.DataFrame({
            "sku": ["a"], "family": ["F"], "supplier": ["S"], "status": ["active"], "abc_class": ["A"],
            "unit_cost": [2.0], "unit_price": [5.0], "lead_time_months": [1], "moq": [10], "order_multiple": [10],
            "discontinue_date": [None],
        }, schema_overrides={"discontinue_date": pl.Date}),
        plan=pl.DataFrame({"sku": ["a"] * 3, "month": MONTHS, "p10": [10.0] * 3, "consensus": [20.0] * 3,
                           "p90": [40.0] * 3}),
        on_hand=pl.DataFrame({"sku": ["a"], "on_hand": [on_hand]}),
        open_supply=pl.DataFrame({"sku": ["a"], "expected_month": [MONTHS[1]], "open_units": [10.0],
                                  "open_value": [20.0]}),
        suppliers=pl.DataFrame({"supplier": ["S"], "monthly_capacity": [capacity], "deposit_share": [0.5],
                                "payment_days": [30]}),
        budget=pl.DataFrame({"month": [MONTHS[0]], "family": ["F"], "revenue_target": [120.0]}),
        safety_stock=pl.DataFrame({"sku": ["a"], "safety_stock": [5.0]}),
    )


def test_central_scenario_by_hand():
    result = run_scenario(inputs(), Scenario("central"))
    projection = result.inventory_projection
    # Month 1: no order can arrive (lead time 1). Month 2: need 5 + 20 − (10 + 10) = 5 → MOQ 10.
    # Month 3: need 5 + 20 − 10 = 15 → 20 (multiple of 10).
    assert projection.select("opening", "receipts", "planned_receipts", "demand", "fulfilled", "closing").rows() == [
        (30.0, 0.0, 0.0, 20.0, 20.0, 10.0),
        (10.0, 10.0, 10.0, 20.0, 20.0, 10.0),
        (10.0, 0.0, 20.0, 20.0, 20.0, 10.0),
    ]
    assert result.planned_orders.select("release_month", "receipt_month", "quantity", "order_value").rows() == [
        (MONTHS[0], MONTHS[1], 10.0, 20.0), (MONTHS[1], MONTHS[2], 20.0, 40.0),
    ]
    # Deposits (half) at release, balances 30 days (one month) after receipt; the open PO's deposit is paid.
    # m1: 10 (deposit of the m2 order); m2: 20 (deposit of the m3 order); m3: 10 (balance of the m2
    # order) + 10 (balance of the open PO). The m3 order's balance falls after the horizon.
    cash = result.cash_plan
    assert cash["po_payments"].to_list() == [10.0, 20.0, 20.0]
    assert cash["revenue"].to_list() == [100.0, 100.0, 100.0]
    assert cash["cash_need"].to_list() == [-90.0, -170.0, -250.0]
    # Purchases against the cost of what sold (20 × 2 = 40 a month): 10 − 40, 20 − 40, 20 − 40, cumulated.
    assert cash["inventory_cash_need"].to_list() == [-30.0, -50.0, -70.0]
    assert cash["budget_revenue"].to_list() == [120.0, None, None]
    assert cash["budget_gap"].to_list() == [-20.0, None, None]
    assert result.summary["service_level"] == 1.0
    assert result.summary["peak_cash_need"] == 0.0
    assert result.supply_gaps.is_empty()
    assert result.sku_status["status"].to_list() == ["healthy"]


def test_a_purchase_budget_refuses_orders_and_the_lost_sales_show():
    result = run_scenario(inputs(), Scenario("central", purchase_budget=15.0))
    # The month-2 order (value 20, released in month 1) does not fit: month 2 sells its 20 from stock, ends
    # at 0; month 3 then needs 5 + 20 = 25 → 30, value 60, refused too: month 3 sells nothing.
    assert result.planned_orders.is_empty()
    assert result.inventory_projection.select("fulfilled", "shortfall", "closing").rows() == [
        (20.0, 0.0, 10.0), (20.0, 0.0, 0.0), (0.0, 20.0, 0.0),
    ]
    assert result.summary["service_level"] == pytest.approx(40 / 60)
    assert result.summary["lost_revenue"] == 100.0
    [stockout] = result.exceptions.filter(pl.col("exception_type") == "stockout").rows(named=True)
    assert (stockout["month"], stockout["units"], stockout["severity"]) == (MONTHS[2], 20.0, 100.0)


def test_units_a_supplier_cannot_ship_are_cut_in_whole_multiples_and_reported():
    result = run_scenario(inputs(capacity=100.0), Scenario("central", capacity_multiplier=0.15))
    # Capacity 15. Month 2: open PO 10 + order 10 → 5 over; the order cannot arrive earlier (lead time 1),
    # so 10 (a whole multiple ≥ 5) is cut and the order, now 0, dropped. Month 3: the order of 20 is 5
    # over; month 2 has 5 spare, too little for the whole order: 10 cut, 10 kept (= MOQ).
    assert result.planned_orders.select("receipt_month", "quantity", "capacity_cut").rows() == [
        (MONTHS[2], 10.0, 10.0)
    ]
    assert result.inventory_projection.select("fulfilled", "shortfall").rows() == [
        (20.0, 0.0), (20.0, 0.0), (10.0, 10.0),
    ]
    overloads = result.exceptions.filter(pl.col("exception_type") == "capacity_overload")
    assert overloads.select("month", "units", "severity").rows() == [(MONTHS[1], 10.0, 50.0), (MONTHS[2], 10.0, 50.0)]
    assert result.capacity_load.select("month", "load", "capacity", "is_overloaded").rows() == [
        (MONTHS[0], 0.0, 15.0, False), (MONTHS[1], 10.0, 15.0, False), (MONTHS[2], 10.0, 15.0, False),
    ]


def test_a_supplier_delay_moves_open_pos_and_lengthens_the_lead_time():
    result = run_scenario(inputs(), Scenario("central", supplier_delay_months=1))
    projection = result.inventory_projection
    # The open PO now arrives in month 3; with lead time 2 no order can arrive before month 3.
    assert projection["receipts"].to_list() == [0.0, 0.0, 10.0]
    assert projection.select("fulfilled", "shortfall").rows() == [(20.0, 0.0), (10.0, 10.0), (20.0, 0.0)]
    assert result.supply_gaps.select("month", "shortfall_units", "revenue_at_risk", "recovery_month").rows() == [
        (MONTHS[1], 10.0, 50.0, MONTHS[2]),
    ]


def test_price_and_demand_levers():
    central = run_scenario(inputs(on_hand=500.0), Scenario("central"))
    dearer = run_scenario(inputs(on_hand=500.0), Scenario("central", price_multiplier=1.1, demand_quantile=0.9))
    assert central.summary["demand_units"] == 60.0 and dearer.summary["demand_units"] == 120.0
    assert dearer.summary["revenue"] == pytest.approx(120 * 5 * 1.1)


def test_the_company_budget_is_its_total_row_or_else_the_sum_of_its_families():
    budget = pl.DataFrame({
        "month": [MONTHS[0], MONTHS[0], MONTHS[0], MONTHS[1], MONTHS[1]],
        "family": ["F", "G", None, "F", "G"],
        "revenue_target": [10.0, 20.0, 50.0, 1.0, 2.0],
    })
    assert company_budget(budget).rows() == [(MONTHS[0], 50.0), (MONTHS[1], 3.0)]


def test_without_purchase_orders_there_is_no_open_supply_and_orders_cover_the_need():
    """No purchase_orders data set: fct_open_supply is empty. Month 2 now needs 5 + 20 − 10 = 15 → 20."""
    no_pos = replace(inputs(), open_supply=inputs().open_supply.clear())
    result = run_scenario(no_pos, Scenario("central"))
    assert result.inventory_projection.select("opening", "receipts", "planned_receipts", "closing").rows() == [
        (30.0, 0.0, 0.0, 10.0),
        (10.0, 0.0, 20.0, 10.0),
        (10.0, 0.0, 20.0, 10.0),
    ]
    # Deposits of 20 at each release (m1, m2), the m2 order's balance of 20 a month after its receipt (m3).
    assert result.cash_plan["po_payments"].to_list() == [20.0, 20.0, 20.0]
