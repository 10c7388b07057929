"""Units to money, cash under payment terms and the budget gap, computed by hand on tiny cases."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.finance.cash import (
    Payment,
    StockRiskValue,
    budget_gap,
    cash_need,
    payment_month_offset,
    peak_cash_need,
    po_payments,
    po_spend,
    sku_month_finance,
    stock_risk_value,
)
from sop_pipeline.supply.projection import project_inventory


@pytest.mark.parametrize("days,months", [(0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (90, 3)])
def test_payment_days_become_whole_months_rounded_up(days, months):
    assert payment_month_offset(days) == months


def test_deposit_at_release_and_balance_after_receipt_plus_terms():
    # 1,000 units at 2.00 = 2,000: 30 % = 600 at release (month 1), 1,400 at receipt 3 + 30 days → month 4
    assert po_payments(1000, 2.0, release_month=1, receipt_month=3, deposit_share=0.3, payment_days=30) == [
        Payment(1, 600.0), Payment(4, 1400.0),
    ]
    assert po_payments(10, 5.0, 2, 4) == [Payment(4, 50.0)]  # no terms: all on receipt


def test_po_spend_drops_paid_deposits_and_payments_beyond_the_horizon():
    orders = pl.DataFrame(
        [
            ("a", "S1", 1, 3, 1000.0, 2.0),  # planned: 600 in month 1, 1,400 in month 4
            ("b", "S1", 0, 2, 100.0, 3.0),   # open PO: deposit 90 already paid, balance 210 in month 3
            ("c", "S9", 2, 5, 10.0, 1.0),    # supplier without terms, paid on receipt in month 5 > horizon
        ],
        schema=["sku", "supplier", "release_month", "receipt_month", "quantity", "unit_cost"],
        orient="row",
    )
    suppliers = pl.DataFrame({"supplier": ["S1"], "deposit_share": [0.3], "payment_days": [30]})
    assert po_spend(orders, suppliers, horizon=4).rows() == [("a", 1, 600.0), ("a", 4, 1400.0), ("b", 3, 210.0)]


def test_sku_month_finance_by_hand():
    projection = pl.DataFrame({"sku": ["a"], "month": [1], "fulfilled": [5.0], "shortfall": [1.0], "closing": [20.0]})
    products = pl.DataFrame({"sku": ["a"], "family": ["F"], "unit_price": [10.0], "unit_cost": [4.0]})
    # revenue 5 × 10, cogs 5 × 4, margin 50 − 20, lost 1 × 10, inventory 20 × 4
    assert sku_month_finance(projection, products).rows() == [("a", "F", 1, 50.0, 20.0, 30.0, 10.0, 80.0)]


def test_stock_left_after_the_last_sale_is_obsolete_value_and_not_excess():
    plans = project_inventory(700, [100, 100, 100], [0] * 3, [0] * 3, 1, 1, 1)  # closings 600, 500, 400
    # excess at 5 months: 600 − 5 × 100 = 100 units at cost 2
    assert stock_risk_value(plans, 2.0, excess_cover_months=5) == StockRiskValue(200.0, 0.0)
    # last sale in month 3: the 400 left are obsolete
    assert stock_risk_value(plans, 2.0, last_month=3, excess_cover_months=5) == StockRiskValue(0.0, 800.0)


def test_cash_need_is_cumulative_payments_minus_collections():
    revenue = pl.DataFrame({"month": [1, 2, 3, 3], "revenue": [500.0, 1000.0, 600.0, 400.0]})
    payments = pl.DataFrame({"month": [1, 4, 3], "po_payments": [600.0, 0.0, 1400.0]})
    cash = cash_need(revenue, payments, horizon=4)
    # net out 600 − 500 = 100, −1,000, 1,400 − 1,000 = 400, 0 → cumulative 100, −900, −500, −500
    assert cash["net_cash_out"].to_list() == [100.0, -1000.0, 400.0, 0.0]
    assert cash["cash_need"].to_list() == [100.0, -900.0, -500.0, -500.0]
    assert peak_cash_need(cash) == 100.0


def test_customer_terms_delay_collections_and_raise_the_peak():
    revenue = pl.DataFrame({"month": [1, 2, 3], "revenue": [500.0, 1000.0, 1000.0]})
    payments = pl.DataFrame({"month": [1, 3], "po_payments": [600.0, 1400.0]})
    cash = cash_need(revenue, payments, horizon=4, collection_days=30)
    # collected 0, 500, 1,000, 1,000 → net 600, −500, 400, −1,000 → cumulative 600, 100, 500, −500
    assert cash["revenue_collected"].to_list() == [0.0, 500.0, 1000.0, 1000.0]
    assert cash["cash_need"].to_list() == [600.0, 100.0, 500.0, -500.0]
    assert peak_cash_need(cash) == 600.0


def test_a_plan_that_never_needs_cash_has_a_zero_peak():
    cash = cash_need(pl.DataFrame({"month": [1], "revenue": [10.0]}),
                     pl.DataFrame({"month": [1], "po_payments": [0.0]}), horizon=2)
    assert peak_cash_need(cash) == 0.0


def test_budget_gap_by_family_and_total():
    jan, feb = date(2026, 12, 1), date(2027, 1, 1)
    plan = pl.DataFrame({"family": ["F1", "F1", "F2"], "month": [jan, jan, jan], "revenue": [60.0, 40.0, 50.0]})
    budget = pl.DataFrame(
        {"month": [jan, jan, feb], "family": ["F1", "", "F1"], "revenue_target": [120.0, 200.0, 80.0]}
    )
    assert budget_gap(plan, budget).rows() == [
        ("F1", jan, 100.0, 120.0, -20.0),
        ("F1", feb, 0.0, 80.0, -80.0),     # budgeted, nothing planned
        ("F2", jan, 50.0, None, None),     # no budget for F2
        (None, jan, 150.0, 200.0, -50.0),  # the company total
    ]


@settings(max_examples=150, deadline=None)
@given(
    quantity=st.integers(0, 10_000), cost=st.floats(0, 100), deposit=st.floats(0, 1),
    release=st.integers(-3, 12), lead=st.integers(0, 6), days=st.integers(0, 120),
)
def test_an_order_is_paid_exactly_once_and_never_before_release(quantity, cost, deposit, release, lead, days):
    payments = po_payments(quantity, cost, release, release + lead, deposit, days)
    assert sum(p.amount for p in payments) == pytest.approx(quantity * cost)
    assert all(p.month >= release for p in payments)
