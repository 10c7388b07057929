"""Projected inventory and planned orders, computed by hand on tiny cases, then as properties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.supply.projection import (
    TOLERANCE,
    MonthPlan,
    project_inventory,
    project_with_receipts,
    recovery_month,
    release_month,
    round_order_quantity,
)


@pytest.mark.parametrize("need,moq,multiple,expected", [
    (0, 100, 50, 0),
    (-5, 100, 50, 0),
    (40, 100, 50, 100),   # below MOQ: the MOQ
    (101, 100, 50, 150),  # above MOQ: up to the next multiple
    (150, 100, 50, 150),  # exactly a multiple stays
    (7, 5, 12, 12),       # a MOQ that is not a multiple rounds up to one
])
def test_order_quantity_is_at_least_moq_and_a_multiple(need, moq, multiple, expected):
    assert round_order_quantity(need, moq, multiple) == expected


def test_an_order_is_released_one_lead_time_before_it_is_needed():
    assert release_month(need_month=5, lead_time_months=2) == 3
    assert recovery_month(lead_time_months=2) == 3


def test_projection_by_hand():
    plans = project_inventory(
        on_hand=100, demand=[60, 60, 60, 60], receipts=[0, 0, 50, 0], safety_stock=[20] * 4,
        lead_time_months=1, moq=100, order_multiple=50,
    )
    assert [(p.opening, p.receipts, p.planned_receipts, p.fulfilled, p.closing) for p in plans] == [
        (100, 0, 0, 60, 40),    # month 1 cannot receive a new order (release would be month 0)
        (40, 0, 100, 60, 80),   # need = SS 20 + demand 60 − available 40 = 40 → MOQ 100
        (80, 50, 0, 60, 70),    # the open PO covers month 3
        (70, 0, 100, 60, 110),  # need = 20 + 60 − 70 = 10 → MOQ 100
    ]
    assert [p.planned_release for p in plans] == [None, 1, None, 3]
    assert not any(p.gap for p in plans)


def test_a_need_inside_the_lead_time_is_a_supply_gap():
    plans = project_inventory(
        on_hand=10, demand=[50, 50, 50], receipts=[0, 0, 0], safety_stock=[0, 0, 0],
        lead_time_months=2, moq=1, order_multiple=1,
    )
    assert [(p.fulfilled, p.shortfall, p.gap) for p in plans] == [(10, 40, True), (0, 50, True), (50, 0, False)]
    assert plans[2].planned_receipts == 50 and plans[2].planned_release == 1


def _month(demand, available, safety_stock, gap=False):
    """One closed month: `available` units (opening + receipts) against `demand`."""
    fulfilled = min(demand, available)
    return MonthPlan(1, available, 0.0, 0.0, demand, fulfilled, available - fulfilled, safety_stock, None,
                     demand - fulfilled, gap)


@pytest.mark.parametrize("demand,available,safety_stock,stockout,below", [
    (10.0, 4.0, 0.0, True, False),     # 6 short: a stockout, with no buffer to be below
    (10.0, 4.0, 5.0, True, True),      # 6 short and closes at 0 < 5: a stockout that is also below the buffer
    (10.0, 12.0, 5.0, False, True),    # covers demand, closes at 2 < 5: at risk, not a stockout
    (10.0, 15.0, 5.0, False, False),   # closes exactly at the buffer: fine
    (10.0, 10.0, 0.0, False, False),   # closes at 0 with no buffer and no shortfall: not a stockout
    (0.1 + 0.2, 0.3, 0.0, False, False),  # (0.1 + 0.2) − 0.3 = 5.6e-17 short: float noise, not a stockout
])
def test_a_stockout_is_a_month_whose_stock_cannot_cover_its_demand(demand, available, safety_stock, stockout, below):
    month = _month(demand, available, safety_stock)
    assert (month.is_stockout, month.is_below_safety_stock) == (stockout, below)


def test_float_noise_below_the_tolerance_is_neither_a_stockout_nor_a_deficit():
    month = MonthPlan(1, 0.0, 0.0, 0.0, 1.0, 1.0 - TOLERANCE / 2, 0.0, TOLERANCE / 2, None, TOLERANCE / 2, False)
    assert not month.is_stockout and not month.is_below_safety_stock


def test_a_gap_says_whether_it_is_a_shortfall_or_only_below_safety_stock():
    # Lead time 2: months 1 and 2 are before an order released now arrives (month 3).
    plans = project_inventory(on_hand=60, demand=[50, 20, 20], receipts=[0, 0, 0], safety_stock=[5, 5, 5],
                              lead_time_months=2, moq=1, order_multiple=1)
    # Month 1: 60 − 50 = 10 ≥ 5, no gap. Month 2: 10 − 20 → 10 short. Month 3: an order of 25 arrives.
    assert [(p.shortfall, p.closing, p.gap, p.gap_type) for p in plans] == [
        (0, 10, False, None), (10, 0, True, "shortfall"), (0, 5, False, None),
    ]
    thin = project_inventory(on_hand=60, demand=[50, 8, 20], receipts=[0, 0, 0], safety_stock=[5, 5, 5],
                             lead_time_months=2, moq=1, order_multiple=1)
    # Month 2 covers its 8 from the 10 left but closes at 2 < 5: a gap, only below safety stock.
    assert [(p.is_stockout, p.gap_type) for p in thin] == [(False, None), (False, "below_safety_stock"), (False, None)]


quantities = st.integers(min_value=0, max_value=5_000)


@settings(max_examples=200, deadline=None)
@given(
    on_hand=quantities,
    months=st.lists(st.tuples(quantities, quantities, st.integers(0, 800)), min_size=1, max_size=18),
    lead=st.integers(0, 6), moq=st.integers(1, 500), multiple=st.integers(1, 120),
)
def test_projection_identity_and_order_rules_hold_for_any_input(on_hand, months, lead, moq, multiple):
    demand, receipts, safety = (list(x) for x in zip(*months))
    plans = project_inventory(on_hand, demand, receipts, safety, lead, moq, multiple)
    opening = on_hand
    for p in plans:
        assert p.opening == opening
        assert p.closing == pytest.approx(p.opening + p.receipts + p.planned_receipts - p.fulfilled)
        assert p.closing >= 0
        assert 0 <= p.fulfilled <= p.demand
        if p.planned_receipts:
            assert p.planned_receipts >= moq and p.planned_receipts % multiple == 0
            assert p.planned_release == p.month - lead >= 1
            assert p.closing >= p.safety_stock  # an order always restores safety stock
        opening = p.closing


def test_a_blocked_need_month_gets_no_order_and_its_deficit_moves_on():
    free = project_inventory(100, [60, 60, 60], [0, 0, 0], [20] * 3, 1, 10, 10)
    capped = project_inventory(100, [60, 60, 60], [0, 0, 0], [20] * 3, 1, 10, 10, blocked={2})
    assert [p.planned_receipts for p in free] == [0, 40, 60]
    # Month 2 cannot order: 40 on hand meet 40 of 60; month 3 then needs 20 + 60 − 0 = 80.
    assert [(p.planned_receipts, p.fulfilled, p.shortfall) for p in capped] == [(0, 60, 0), (0, 40, 20), (80, 60, 0)]


def test_projection_with_decided_receipts_by_hand():
    plans = project_with_receipts(
        on_hand=30, demand=[50, 50, 50], receipts=[10, 0, 0], planned_receipts=[0, 0, 100],
        safety_stock=[10, 10, 10], lead_time_months=1,
    )
    assert [(p.opening, p.fulfilled, p.shortfall, p.closing) for p in plans] == [
        (30, 40, 10, 0),   # 30 + 10 available: 10 short
        (0, 0, 50, 0),     # nothing arrives: 50 short
        (0, 50, 0, 50),    # the planned 100 arrives
    ]
    # Only month 1 lies before the recovery month (lead time 1 → month 2): its shortfall is a gap.
    assert [p.gap for p in plans] == [True, False, False]
    assert [p.planned_release for p in plans] == [None, None, 2]
