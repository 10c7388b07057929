"""The supply review of one scenario, computed by hand on a one-SKU company, then its levers one by one."""

from dataclasses import replace
from datetime import date

import polars as pl
import pytest

from sop_pipeline.scenarios import Scenario
from sop_pipeline.scenario_run import SupplyInputs, company_budget, run_scenario
from sop_pipeline.supply.status import stockout_disagreements

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
    # Month 3 could have received an order: the advice is to release it, not to expedite.
    assert stockout["suggested_action"] == "release or increase the planned order now"
    assert result.sku_status["status"].to_list() == ["stockout"] and result.supply_gaps.is_empty()


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
    assert result.supply_gaps.select("month", "gap_type", "shortfall_units", "revenue_at_risk", "recovery_month").rows() == [
        (MONTHS[1], "shortfall", 10.0, 50.0, MONTHS[2]),
    ]
    # The month-2 shortfall is the SKU's stockout, named as such in its status and its exception.
    assert result.sku_status["status"].to_list() == ["stockout"]
    assert result.exceptions.filter(pl.col("exception_type") == "stockout").select("month", "units").rows() == [
        (MONTHS[1], 10.0)
    ]


def test_a_gap_only_below_safety_stock_is_at_risk_not_a_stockout():
    result = run_scenario(inputs(on_hand=22.0), Scenario("central"))
    # Month 1 sells its 20 from 22 and closes at 2, below the safety stock of 5, before an order can arrive.
    assert result.supply_gaps.select("month", "gap_type", "shortfall_units", "safety_stock_deficit").rows() == [
        (MONTHS[0], "below_safety_stock", 0.0, 3.0),
    ]
    assert result.sku_status.select("status", "shortfall").rows() == [("at_risk", 0.0)]
    assert result.exceptions["exception_type"].to_list() == ["below_safety_stock"]
    assert result.summary["skus_stockout"] == 0 and result.summary["service_level"] == 1.0


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


def three_skus() -> SupplyInputs:
    """Demand 20 a month each, safety stock 5, no open POs: `a` has 10 and a lead time of 2 (short in months 1
    and 2, before any order can arrive), `b` has 22 (closes month 1 at 2 < 5), `c` has 30 (fine)."""
    base = inputs()
    lead = {"a": 2, "b": 1, "c": 1}
    return replace(
        base,
        products=pl.concat([base.products.with_columns(pl.lit(s).alias("sku"), pl.lit(l).alias("lead_time_months"))
                            for s, l in lead.items()]),
        plan=pl.concat([base.plan.with_columns(pl.lit(s).alias("sku")) for s in lead]),
        on_hand=pl.DataFrame({"sku": list(lead), "on_hand": [10.0, 22.0, 30.0]}),
        safety_stock=pl.DataFrame({"sku": list(lead), "safety_stock": [5.0] * 3}),
        open_supply=base.open_supply.clear(),
        suppliers=base.suppliers.with_columns(pl.lit(1000.0).alias("monthly_capacity")),
    )


def _stockouts(result) -> dict[str, set]:
    def skus(frame: pl.DataFrame, condition: pl.Expr) -> set:
        return set(frame.filter(condition)["sku"])

    return {
        "status": skus(result.sku_status, pl.col("status") == "stockout"),
        "exception": skus(result.exceptions, pl.col("exception_type") == "stockout"),
        "projection": skus(result.inventory_projection, pl.col("shortfall") > 0),
        "shortfall_gap": skus(result.supply_gaps, pl.col("gap_type") == "shortfall"),
        "below_safety_stock_gap": skus(result.supply_gaps, pl.col("gap_type") == "below_safety_stock"),
    }


def test_every_table_names_the_same_stockouts():
    """status stockout = stockout exception = short in the projection ⊇ shortfall gaps, by hand."""
    central = run_scenario(three_skus(), Scenario("central"))
    assert _stockouts(central) == {"status": {"a"}, "exception": {"a"}, "projection": {"a"},
                                   "shortfall_gap": {"a"}, "below_safety_stock_gap": {"b"}}
    assert central.sku_status["status"].to_list() == ["stockout", "at_risk", "healthy"]
    # a loses 10 + 20 units at price 5 in months 1 and 2: one stockout of 30 units, 150 of revenue.
    assert central.exceptions.filter(pl.col("exception_type") == "stockout").select("month", "units", "severity").rows() \
        == [(MONTHS[0], 30.0, 150.0)]
    assert central.summary["lost_revenue"] == 150.0 and central.summary["skus_stockout"] == 1
    assert stockout_disagreements(central.sku_status, central.exceptions, central.supply_gaps,
                                  central.inventory_projection) == []
    # A budget of 15 refuses every order (the smallest is 10 units at 2 = 20): b then runs short in month 2,
    # which an order could have reached; it is a stockout everywhere, though its only gap (month 1) is not.
    capped = run_scenario(three_skus(), Scenario("central", purchase_budget=15.0))
    assert _stockouts(capped) == {"status": {"a", "b", "c"}, "exception": {"a", "b", "c"},
                                  "projection": {"a", "b", "c"}, "shortfall_gap": {"a"},
                                  "below_safety_stock_gap": {"b"}}
    assert stockout_disagreements(capped.sku_status, capped.exceptions, capped.supply_gaps,
                                  capped.inventory_projection) == []


def test_without_cash_inputs_the_cash_plan_says_what_it_leaves_out():
    result = run_scenario(inputs(), Scenario("central"))
    assert result.cash_plan["closing_balance"].null_count() == 3
    assert result.cash_plan["cash_basis"][0].startswith("no cash_position: balances, funding need and runway left out")
    assert "no payment_terms: revenue counted as collected when earned" in result.cash_plan["cash_basis"][0]
    assert (result.summary["lowest_cash_balance"], result.summary["funding_need"], result.summary["runway_months"]) == (
        None, None, None)


def test_the_cash_plan_under_terms_opex_payables_and_an_opening_balance_by_hand():
    cash_inputs = replace(
        inputs(),
        # a sold 60 direct and 40 wholesale in October, at its list price of 5: its mix, and October's wholesale
        # 40 is a receivable
        sales_history=pl.DataFrame({"month": [date(2026, 10, 1)] * 2, "sku": ["a", "a"],
                                    "channel": ["DTC", "Wholesale"], "units": [12.0, 8.0],
                                    "net_revenue": [60.0, 40.0]}),
        payment_terms=pl.DataFrame({"channel": ["DTC", "Wholesale"], "collection_days": [0, 30]}),
        cash_position=pl.DataFrame({"as_of": [date(2026, 10, 31), date(2026, 11, 15)], "opening_cash": [-25.0, 999.0],
                                    "credit_line": [30.0, 0.0]}),
        opex=pl.DataFrame({"month": [MONTHS[0]], "category": ["Payroll"], "amount": [120.0]}),
        payables=pl.DataFrame({"due_date": [date(2026, 10, 15), date(2027, 3, 1)], "description": ["VAT", "Loan"],
                               "amount": [5.0, 70.0]}),
    )
    result = run_scenario(cash_inputs, Scenario("central"))
    cash = result.cash_plan
    # Revenue 100 a month: 60 collected at once, 40 a month later; October's 40 arrives in month 1.
    assert cash["collections"].to_list() == [100.0, 100.0, 100.0]
    assert result.summary["collections_after_horizon"] == 40.0
    # The overdue VAT in month 1; the loan falls after the horizon. The cash position after the cycle's start is
    # not the opening one.
    assert cash["other_payables"].to_list() == [5.0, 0.0, 0.0]
    # m1: 100 − 10 − 120 − 5 = −35 → −60; m2: 100 − 20 = 80 → 20; m3: 100 − 20 = 80 → 100
    assert cash["net_cash_flow"].to_list() == [-35.0, 80.0, 80.0]
    assert cash.select("opening_balance", "closing_balance").rows() == [(-25.0, -60.0), (-60.0, 20.0), (20.0, 100.0)]
    assert cash["funding_need"].to_list() == [30.0, 0.0, 0.0]
    assert cash["is_lowest_balance"].to_list() == [True, False, False]
    summary = result.summary
    assert (summary["lowest_cash_balance"], summary["lowest_cash_month"]) == (-60.0, MONTHS[0])
    assert (summary["funding_need"], summary["runway_months"], summary["credit_line"]) == (30.0, 0, 30.0)
    assert summary["peak_cash_need"] == 35.0 and summary["peak_cash_month"] == MONTHS[0]
    assert cash["cash_basis"][0] == ("opening cash as of 2026-10-31, credit line 30; collections under channel payment "
                                     "terms, receivables included; opex included; payables included")


def test_a_scenarios_opex_multiplier_scales_the_operating_expenses_and_nothing_else():
    cash_inputs = replace(
        inputs(),
        opex=pl.DataFrame({"month": [MONTHS[0], MONTHS[1]], "category": ["Payroll", "Rent"], "amount": [120.0, 30.0]}),
        cash_position=pl.DataFrame({"as_of": [date(2026, 10, 31)], "opening_cash": [500.0], "credit_line": [0.0]}),
    )
    base = run_scenario(cash_inputs, Scenario("central")).cash_plan
    lean = run_scenario(cash_inputs, Scenario("lean", opex_multiplier=0.5)).cash_plan
    assert base["opex"].to_list() == [120.0, 30.0, 0.0] and lean["opex"].to_list() == [60.0, 15.0, 0.0]
    assert lean["collections"].to_list() == base["collections"].to_list()
    # 75 less paid over the horizon: the closing balance ends 75 higher.
    assert lean["closing_balance"][-1] - base["closing_balance"][-1] == 75.0
