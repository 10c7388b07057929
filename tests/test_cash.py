"""Units to money, cash under payment terms and the budget gap, computed by hand on tiny cases."""

from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.finance.cash import (
    CASH_FLOWS,
    LowPoint,
    Payment,
    budget_gap,
    cash_balance,
    channel_mix,
    collections,
    funding_need,
    instalments,
    lowest_balance,
    net_prices,
    payment_month_offset,
    peak_cash_need,
    po_payments,
    po_spend,
    runway_months,
    sku_month_finance,
)
from sop_pipeline.supply.projection import project_inventory
from sop_pipeline.supply.status import StockRiskValue, stock_risk_value


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


TERMS = pl.DataFrame({"channel": ["DTC", "Marketplace", "Wholesale"], "collection_days": [0, 14, 60]})


def test_net_prices_are_list_prices_times_what_each_sku_realised_of_them():
    products = pl.DataFrame({"sku": ["a", "b", "c"], "unit_price": [10.0, 20.0, 5.0]})
    history = pl.DataFrame({
        "sku": ["a", "a", "b", "b", "z"],
        "channel": ["DTC", "Wholesale", "Marketplace", "DTC", "DTC"],
        "units": [10.0, 10.0, 5.0, None, 3.0],  # b's DTC month is missing; z is no product any more
        "net_revenue": [100.0, 55.0, 85.0, None, 30.0],
    })
    # a: 155 of a list value of 200 (direct at list, wholesale at 55 %): 0.775 × 10. b: 85 of 100: 0.85 × 20.
    # c sold nothing: the company's 240 of 300 = 0.8 × 5.
    assert net_prices(products, history).rows() == [("a", 7.75), ("b", 17.0), ("c", 4.0)]


def test_without_sales_the_net_price_is_the_list_price():
    products = pl.DataFrame({"sku": ["a"], "unit_price": [10.0]})
    empty = pl.DataFrame(schema={"sku": pl.String, "units": pl.Float64, "net_revenue": pl.Float64})
    assert net_prices(products, empty).rows() == [("a", 10.0)]


def test_a_run_values_revenue_lost_sales_and_their_exception_at_the_net_price():
    from sop_pipeline.scenario_run import SupplyInputs, at_net_prices, run_scenario
    from sop_pipeline.scenarios import Scenario

    month = date(2026, 11, 1)
    # One SKU listed at 10 that realised 6 a unit last year: 30 units of demand, 20 in stock, a month of lead time.
    inputs = SupplyInputs(
        cycle=month, horizon=1,
        products=pl.DataFrame({"sku": ["a"], "family": ["F"], "supplier": [None], "status": ["active"],
                               "abc_class": ["A"], "unit_cost": [2.0], "unit_price": [10.0], "lead_time_months": [1],
                               "moq": [1], "order_multiple": [1], "discontinue_date": [None]},
                              schema_overrides={"supplier": pl.String, "discontinue_date": pl.Date}),
        plan=pl.DataFrame({"sku": ["a"], "month": [month], "p10": [30.0], "consensus": [30.0], "p90": [30.0]}),
        on_hand=pl.DataFrame({"sku": ["a"], "on_hand": [20.0]}),
        open_supply=pl.DataFrame(schema={"sku": pl.String, "expected_month": pl.Date, "open_units": pl.Float64,
                                         "open_value": pl.Float64}),
        suppliers=pl.DataFrame(schema={"supplier": pl.String, "monthly_capacity": pl.Float64,
                                       "deposit_share": pl.Float64, "payment_days": pl.Int64}),
        budget=pl.DataFrame(schema={"month": pl.Date, "family": pl.String, "revenue_target": pl.Float64}),
        safety_stock=pl.DataFrame({"sku": ["a"], "safety_stock": [0.0]}),
        sales_history=pl.DataFrame({"month": [date(2026, 10, 1)], "sku": ["a"], "channel": ["DTC"],
                                    "units": [50.0], "net_revenue": [300.0]}),
    )
    assert at_net_prices(inputs).products["unit_price"].to_list() == [6.0]
    assert at_net_prices(inputs).products.columns == inputs.products.columns
    result = run_scenario(inputs, Scenario("central"))
    # 20 sold at 6, 10 lost at 6; margin 20 × (6 − 2)
    assert result.cash_plan.select("revenue", "lost_revenue", "gross_margin").row(0) == (120.0, 60.0, 80.0)
    assert result.exceptions.filter(pl.col("exception_type") == "stockout")["severity"].to_list() == [60.0]
    # Without a sales history the run stays at list price: nothing to measure a discount on.
    listed = run_scenario(replace(inputs, sales_history=None), Scenario("central"))
    assert listed.cash_plan["revenue"].to_list() == [200.0]


def test_channel_mix_is_each_skus_revenue_share_with_the_company_mix_under_a_null_sku():
    history = pl.DataFrame({"sku": ["a", "a", "b"], "channel": ["DTC", "Wholesale", "DTC"],
                            "net_revenue": [300.0, 100.0, 600.0]})
    assert channel_mix(history).rows() == [
        ("a", "DTC", 0.75), ("a", "Wholesale", 0.25), ("b", "DTC", 1.0),
        (None, "DTC", 0.9), (None, "Wholesale", 0.1),  # 900 / 1,000 and 100 / 1,000
    ]


def test_collections_follow_each_channels_terms():
    # a sells 50 % direct (paid at order), 30 % on the marketplace (14 days: next month), 20 % wholesale
    # (net 60: two months later); b has no history and takes the company mix (here: all direct).
    mix = pl.DataFrame({"sku": ["a", "a", "a", None], "channel": ["DTC", "Marketplace", "Wholesale", "DTC"],
                        "share": [0.5, 0.3, 0.2, 1.0]})
    revenue = pl.DataFrame({"sku": ["a", "a", "b"], "month": [1, 2, 1], "revenue": [1000.0, 2000.0, 40.0]})
    # month 1: 500 + 40; month 2: 300 + 1,000; month 3: 200 + 600; month 4: 400 (beyond a 3-month horizon)
    assert collections(revenue, mix, TERMS).rows() == [(1, 540.0), (2, 1300.0), (3, 800.0), (4, 400.0)]


def test_a_channel_without_terms_is_collected_when_earned_and_receivables_land_inside_the_horizon():
    mix = pl.DataFrame({"sku": ["a"], "channel": ["Retail"], "share": [1.0]})
    revenue = pl.DataFrame({"sku": ["a"], "month": [1], "revenue": [100.0]})
    # Wholesale revenue of the two months before the cycle (months 0 and −1), net 60: months 2 and 1.
    # Direct revenue of month 0 was collected before the cycle: not counted again.
    receivables = pl.DataFrame({"month": [0, -1, 0, -2], "channel": ["Wholesale", "Wholesale", "DTC", "Wholesale"],
                                "revenue": [70.0, 50.0, 999.0, 30.0]})
    assert collections(revenue, mix, TERMS, receivables).rows() == [(1, 150.0), (2, 70.0)]


def test_a_scenarios_terms_apply_to_its_own_sales_and_invoices_already_sent_keep_theirs():
    from sop_pipeline.scenario_run import scenario_terms
    from sop_pipeline.scenarios import Scenario

    mix = pl.DataFrame({"sku": ["a"], "channel": ["Wholesale"], "share": [1.0]})
    revenue = pl.DataFrame({"sku": ["a"], "month": [1], "revenue": [100.0]})
    receivables = pl.DataFrame({"month": [0], "channel": ["Wholesale"], "revenue": [70.0]})
    terms = scenario_terms(TERMS, Scenario("slow", collection_days={"Wholesale": 90, "Retail": 30}))
    assert dict(terms.iter_rows())["Wholesale"] == 90 and dict(terms.iter_rows())["Retail"] == 30
    assert scenario_terms(TERMS, Scenario("same")) is TERMS
    # This month's sale is collected after 90 days (month 4); last month's invoice at its net 60 (month 2).
    assert collections(revenue, mix, terms, receivables, receivable_terms=TERMS).rows() == [(2, 70.0), (4, 100.0)]


def test_instalments_split_a_total_evenly_over_the_first_months():
    assert instalments(90.0, 3).rows() == [(1, 30.0), (2, 30.0), (3, 30.0)]
    assert instalments(0.0, 3).is_empty()


def test_a_launch_spends_a_share_of_the_scenarios_revenue_over_its_first_months_on_top_of_opex():
    from sop_pipeline.scenario_run import SupplyInputs, scenario_opex
    from sop_pipeline.scenarios import Scenario

    months = [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    inputs = SupplyInputs(
        cycle=months[0], horizon=3, products=pl.DataFrame(), plan=pl.DataFrame(), on_hand=pl.DataFrame(),
        open_supply=pl.DataFrame(), suppliers=pl.DataFrame(), budget=pl.DataFrame(), safety_stock=pl.DataFrame(),
        opex=pl.DataFrame({"month": months, "category": ["Payroll"] * 3, "amount": [100.0, 100.0, 100.0]}),
    )
    # opex × 1.5 = 150 a month; 10 % of 600 of revenue = 60 over two months: 30 in months 1 and 2.
    scenario = Scenario("push", opex_multiplier=1.5, launch_revenue_share=0.1, launch_months=2)
    assert scenario_opex(inputs, scenario, revenue=600.0).rows() == [(1, 180.0), (2, 180.0), (3, 150.0)]
    # A launch longer than the horizon: what falls after it (two of five parts of 12) is outside the plan.
    long = Scenario("long", launch_revenue_share=0.1, launch_months=5)
    assert scenario_opex(inputs, long, revenue=600.0).rows() == [(1, 112.0), (2, 112.0), (3, 112.0)]
    # Without opex/ the launch still costs what it costs.
    assert scenario_opex(replace(inputs, opex=None), scenario, revenue=600.0).rows() == [
        (1, 30.0), (2, 30.0), (3, 0.0)]


def flows(collected, po, opex, other) -> pl.DataFrame:
    return pl.DataFrame({"month": [1, 2, 3], "collections": collected, "po_payments": po, "opex": opex,
                         "other_payables": other})


def test_the_balance_opens_at_the_opening_cash_and_each_month_at_the_last_ones_closing():
    cash = cash_balance(flows([100.0, 500.0, 900.0], [400.0, 300.0, 0.0], [200.0] * 3, [0.0, 50.0, 0.0]), 250.0)
    # net −500, −50, 700 → closing −250, −300, 400; cash need 500, 550, −150
    assert cash.select("opening_balance", "closing_balance").rows() == [(250.0, -250.0), (-250.0, -300.0),
                                                                        (-300.0, 400.0)]
    assert cash["cash_need"].to_list() == [500.0, 550.0, -150.0]
    for row in cash.iter_rows(named=True):
        paid = row["po_payments"] + row["opex"] + row["other_payables"]
        assert row["opening_balance"] + row["collections"] - paid == pytest.approx(row["closing_balance"])
    assert cash["opening_balance"][1:].to_list() == cash["closing_balance"][:-1].to_list()
    assert lowest_balance(cash) == LowPoint(-300.0, 2)
    assert peak_cash_need(cash) == 550.0


def test_funding_need_is_what_the_lowest_balance_needs_beyond_the_credit_line():
    cash = cash_balance(flows([100.0, 500.0, 900.0], [400.0, 300.0, 0.0], [200.0] * 3, [0.0, 50.0, 0.0]), 250.0)
    assert funding_need(-300.0, 100.0) == 200.0
    assert funding_need(-300.0, 300.0) == 0.0
    assert runway_months(cash, 100.0) == 0  # month 1 closes at −250 + 100 < 0
    assert runway_months(cash, 260.0) == 1  # month 2 closes at −300 + 260 < 0
    assert runway_months(cash, 300.0) is None  # never below the line within the horizon
    assert [funding_need(lowest_balance(cash).balance, c) for c in (0.0, 100.0, 200.0, 300.0, 400.0)] == [
        300.0, 200.0, 100.0, 0.0, 0.0]


def test_without_an_opening_cash_the_balances_are_null_not_zero():
    cash = cash_balance(flows([100.0, 0.0, 0.0], [0.0, 0.0, 0.0], [50.0] * 3, [0.0] * 3), None)
    assert cash["closing_balance"].null_count() == 3
    assert cash["cash_need"].to_list() == [-50.0, 0.0, 50.0]
    assert lowest_balance(cash) is None
    assert funding_need(None, 100.0) is None
    assert set(CASH_FLOWS) <= set(cash.columns)


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
