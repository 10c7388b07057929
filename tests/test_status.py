"""SKU status and supply exceptions, computed by hand on tiny projections, then as properties."""

import math
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.supply.capacity import Unplaced
from sop_pipeline.supply.projection import MonthPlan, project_inventory
from sop_pipeline.supply.status import (
    EXCEPTION_TYPES,
    STATUSES,
    SupplyException,
    capacity_exceptions,
    cover_months,
    excess_units,
    exceptions_frame,
    last_selling_month,
    sku_exceptions,
    sku_status,
    stockout_disagreements,
)


def _plan(month, demand, closing, safety_stock=0.0, shortfall=0.0, gap=False, opening=0.0):
    return MonthPlan(month, opening, 0.0, 0.0, demand, demand - shortfall, closing, safety_stock, None, shortfall, gap)


def _flat(on_hand, demand, safety_stock=0.0, lead=1):
    n = len(demand)
    return project_inventory(on_hand, demand, [0] * n, [safety_stock] * n, lead, moq=1, order_multiple=1)


@pytest.mark.parametrize("discontinue_date,status,expected", [
    (date(2027, 1, 15), "phase_out", 3),    # sells until mid-January: month 3 of a November cycle
    (date(2026, 10, 20), "discontinued", 0),  # stopped before the cycle
    (None, "discontinued", 0),
    (date(2028, 1, 1), "phase_out", None),  # beyond a 12-month horizon
    (None, "active", None),
])
def test_last_selling_month(discontinue_date, status, expected):
    assert last_selling_month(date(2026, 11, 1), status, discontinue_date, horizon=12) == expected


def test_cover_is_closing_over_the_mean_demand_of_the_months_after():
    plans = _flat(700, [100, 100, 100])  # closings 600, 500, 400
    # 600 / 100, 500 / 100, and the last month: 400 / mean of the horizon 100
    assert cover_months(plans) == [6.0, 5.0, 4.0]
    assert cover_months([_plan(1, 0, 5), _plan(2, 0, 0)]) == [math.inf, 0.0]


def test_a_shortfall_inside_the_lead_time_is_a_stockout_exception_that_says_to_expedite():
    plans = _flat(10, [50, 50, 50], lead=2)  # shortfall 40 and 50 in months 1–2, an order arrives month 3
    assert sku_status(plans) == "stockout"
    assert sku_exceptions("a", plans, unit_price=3.0, unit_cost=1.0, lead_time_months=2) == [
        SupplyException("a", None, "stockout", 1, 90.0, 270.0,
                        "expedite open POs or release an order now (an order released now arrives in month 3)"),
    ]


def test_a_shortfall_an_order_could_have_prevented_is_a_stockout_exception():
    plans = [_plan(1, 10, 0, shortfall=4)]
    assert sku_exceptions("a", plans, 5.0, 2.0, 0) == [
        SupplyException("a", None, "stockout", 1, 4.0, 20.0, "release or increase the planned order now"),
    ]


def test_shortfalls_before_and_after_the_recovery_month_are_one_stockout_of_all_the_lost_units():
    """Month 1 is short where no order can reach (a gap), month 3 where one could have (a budget refused it):
    one stockout, 3 + 5 units at price 2, from month 1; the SKU's status says stockout too."""
    plans = [_plan(1, 10, 0, shortfall=3, gap=True), _plan(2, 10, 0), _plan(3, 10, 0, shortfall=5)]
    assert sku_status(plans) == "stockout"
    assert sku_exceptions("a", plans, 2.0, 1.0, 1) == [
        SupplyException("a", None, "stockout", 1, 8.0, 16.0,
                        "expedite open POs or release an order now (an order released now arrives in month 2)"),
    ]


def test_a_gap_only_below_safety_stock_is_at_risk_and_never_a_stockout():
    plans = [_plan(1, 10, 2, safety_stock=5, gap=True), _plan(2, 10, 9, safety_stock=5)]
    assert plans[0].gap_type == "below_safety_stock"
    assert sku_status(plans) == "at_risk"
    assert [e.exception_type for e in sku_exceptions("a", plans, 2.0, 1.0, 1)] == ["below_safety_stock"]


def test_below_safety_stock_is_at_risk_valued_at_price_on_the_deepest_deficit():
    plans = [_plan(1, 10, 15, safety_stock=20), _plan(2, 10, 12, safety_stock=20), _plan(3, 10, 25, safety_stock=20)]
    assert sku_status(plans) == "at_risk"
    # deficits 5 and 8: the 8 units at price 4 = 32
    assert sku_exceptions("a", plans, 4.0, 1.0, 1) == [
        SupplyException("a", None, "below_safety_stock", 1, 8.0, 32.0, "expedite PO or release order now"),
    ]


def test_cover_beyond_n_months_is_excess_valued_at_cost():
    plans = _flat(700, [100, 100, 100])  # covers 6, 5, 4
    assert sku_status(plans) == "healthy"  # exactly 6 months is not beyond 6
    assert sku_status(plans, excess_cover_months=5) == "excess"
    # excess at N = 5: max(600 − 500, 500 − 500, 400 − 500) = 100 units at cost 2
    assert excess_units(plans, 5) == 100
    assert sku_exceptions("a", plans, 9.0, 2.0, 1, excess_cover_months=5) == [
        SupplyException("a", None, "excess", 1, 100.0, 200.0, "reduce next order / promote"),
    ]


def test_stock_left_after_the_last_selling_month_is_obsolete_risk_not_excess():
    plans = _flat(300, [100, 100, 0])  # closings 200, 100, 100; last sale in month 2
    assert sku_status(plans, last_month=2) == "obsolete_risk"
    assert sku_exceptions("a", plans, 9.0, 2.0, 1, last_month=2) == [
        SupplyException("a", None, "obsolete_risk", 2, 100.0, 200.0, "liquidate or return to supplier"),
    ]


def test_a_sku_discontinued_before_the_cycle_is_obsolete_with_its_opening_stock():
    plans = _flat(40, [0, 0])
    assert sku_status(plans, last_month=0) == "obsolete_risk"
    assert sku_exceptions("a", plans, 9.0, 2.5, 1, last_month=0)[0].severity == 100.0


def test_stockout_outranks_every_other_status():
    plans = [_plan(1, 10, 0, safety_stock=5, shortfall=2), _plan(2, 0, 500)]
    assert sku_status(plans, last_month=1) == "stockout"
    assert sku_status([_plan(1, 10, 10)]) == "healthy"


def test_capacity_overload_is_valued_at_the_price_of_the_units_that_will_not_come():
    result = capacity_exceptions("S1", [Unplaced("b", 3, 30.0)], {"b": 2.5})
    assert result == [SupplyException("b", "S1", "capacity_overload", 3, 30.0, 75.0,
                                      "pull production earlier / second source")]


def test_exceptions_frame_ranks_by_severity_then_sku():
    items = [
        SupplyException("b", None, "excess", 1, 1.0, 10.0, "x"),
        SupplyException("a", None, "stockout", 2, 1.0, 10.0, "y"),
        SupplyException("c", "S1", "capacity_overload", 3, 1.0, 99.0, "z"),
    ]
    assert exceptions_frame(items)["sku"].to_list() == ["c", "a", "b"]
    assert exceptions_frame([]).is_empty()


@settings(max_examples=150, deadline=None)
@given(
    on_hand=st.integers(0, 2000),
    months=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 300)), min_size=1, max_size=12),
    lead=st.integers(0, 4),
)
def test_every_projection_gets_one_status_and_exceptions_match_it(on_hand, months, lead):
    demand, safety = (list(x) for x in zip(*months))
    plans = project_inventory(on_hand, demand, [0] * len(demand), safety, lead, moq=1, order_multiple=1)
    status = sku_status(plans)
    assert status in STATUSES
    found = sku_exceptions("a", plans, 2.0, 1.0, lead)
    kinds = {e.exception_type for e in found}
    assert kinds <= set(EXCEPTION_TYPES)
    assert (status == "stockout") == ("stockout" in kinds) == any(p.shortfall > 0 for p in plans)
    lost = [e.units for e in found if e.exception_type == "stockout"]
    assert lost == ([sum(p.shortfall for p in plans)] if status == "stockout" else [])
    # A gap is a shortfall exactly when its month is short; the others are only below safety stock.
    assert all((p.gap_type == "shortfall") == (p.shortfall > 0) for p in plans if p.gap)
    assert all(e.severity >= 0 and e.units > 0 for e in found)
    if status == "healthy":
        assert found == []


# The published tables of one scenario, by hand: SKU `a` is short in month 1, a gap (a stockout); `b` is only
# below safety stock in month 1, also a gap (at risk); `c` is short in month 3, where an order could have
# arrived (a stockout without a gap); `d` is healthy.
M1, M2, M3 = date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)


def _tables() -> dict[str, pl.DataFrame]:
    status = pl.DataFrame({"sku": ["a", "b", "c", "d"], "status": ["stockout", "at_risk", "stockout", "healthy"],
                           "shortfall": [4.0, 0.0, 2.0, 0.0]})
    exceptions = pl.DataFrame({"sku": ["a", "b", "c"], "exception_type": ["stockout", "below_safety_stock", "stockout"]})
    gaps = pl.DataFrame({"sku": ["a", "b"], "month": [M1, M1], "gap_type": ["shortfall", "below_safety_stock"],
                         "shortfall_units": [4.0, 0.0]})
    projection = pl.DataFrame({
        "sku": [s for s in "abcd" for _ in range(3)], "month": [M1, M2, M3] * 4,
        "shortfall": [4.0, 0, 0, 0, 0, 0, 0, 0, 2.0, 0, 0, 0],
        "is_supply_gap": [True, False, False, True, False, False, False, False, False, False, False, False],
    })
    return {"sku_status": status, "exceptions": exceptions, "supply_gaps": gaps, "projection": projection}


def test_tables_that_agree_on_stockouts_have_no_disagreement():
    assert stockout_disagreements(**_tables()) == []


def _with(name: str, frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {**_tables(), name: frame}


@pytest.mark.parametrize("broken,expected", [
    # `c` short in the projection but not called a stockout by its status (and its exception disagrees too)
    (lambda t: _with("sku_status", t["sku_status"].with_columns(
        pl.when(pl.col("sku") == "c").then(pl.lit("at_risk")).otherwise("status").alias("status"))),
     "in stockout exceptions but not in status stockout (first: c)"),
    # the old split: `a`'s shortfall inside the lead time named a supply_gap instead of a stockout
    (lambda t: _with("exceptions", t["exceptions"].with_columns(
        pl.when(pl.col("sku") == "a").then(pl.lit("supply_gap")).otherwise("exception_type").alias("exception_type"))),
     "in status stockout but not in stockout exceptions (first: a)"),
    # `b`'s below-safety-stock gap labelled a shortfall
    (lambda t: _with("supply_gaps", t["supply_gaps"].with_columns(pl.lit("shortfall").alias("gap_type"))),
     "1 supply gaps whose gap_type does not follow their shortfall_units"),
    # a gap month the projection does not flag
    (lambda t: _with("supply_gaps", pl.concat([t["supply_gaps"], pl.DataFrame({
        "sku": ["d"], "month": [M2], "gap_type": ["below_safety_stock"], "shortfall_units": [0.0]})])),
     "1 in supply_gaps but not in projection supply-gap months (first: d, 2026-12-01)"),
    # a stockout SKU whose sku_status row shows no lost demand
    (lambda t: _with("sku_status", t["sku_status"].with_columns(pl.lit(0.0).alias("shortfall"))),
     "2 in status stockout but not in sku_status shortfall > 0 (first: a)"),
])
def test_each_way_the_tables_can_disagree_on_a_stockout_is_reported(broken, expected):
    problems = stockout_disagreements(**broken(_tables()))
    assert any(expected in p for p in problems), problems
