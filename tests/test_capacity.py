"""Supplier capacity load and levelling, computed by hand on tiny cases, then as properties."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.supply.capacity import (
    Move,
    SupplyOrder,
    Unplaced,
    capacity_load,
    level_supplier_orders,
    level_to_capacity,
    monthly_load,
)


def test_a_planned_order_can_be_pulled_back_to_the_month_an_order_released_now_arrives():
    assert SupplyOrder.planned("a", month=5, quantity=10, lead_time_months=2).earliest_month == 3
    assert SupplyOrder.planned("a", month=5, quantity=10, lead_time_months=0).earliest_month == 1
    assert SupplyOrder.open_po("a", month=5, quantity=10).firm


def test_levelling_by_hand_moves_what_it_can_and_reports_the_rest():
    orders = [
        SupplyOrder.open_po("p", 3, 80),
        SupplyOrder.planned("a", 3, 60, lead_time_months=1),  # may arrive from month 2
        SupplyOrder.planned("b", 3, 50, lead_time_months=2),  # month 3 is already its earliest
        SupplyOrder.planned("c", 1, 30, lead_time_months=0),
    ]
    result = level_to_capacity(orders, [100, 100, 100, 100])
    # month 3: 80 + 60 + 50 = 190, overload 90; a's 60 go to month 2 (spare 100); 30 left, on b then p
    assert result.moves == [Move("a", 3, 2, 60)]
    assert result.unplaced == [Unplaced("b", 3, 30)]
    assert [(o.sku, o.month, o.quantity) for o in result.orders] == [
        ("a", 2, 60), ("b", 3, 50), ("c", 1, 30), ("p", 3, 80),
    ]


def test_overload_goes_to_the_latest_earlier_month_with_spare_capacity_first():
    result = level_to_capacity([SupplyOrder("a", 3, 140, earliest_month=1)], [50, 10, 100])
    # overload 40: month 2 takes its spare 10, month 1 the other 30
    assert result.moves == [Move("a", 3, 2, 10), Move("a", 3, 1, 30)]
    assert result.unplaced == []
    assert monthly_load(result.orders, 3) == [30, 10, 100]



def test_without_splitting_an_order_moves_whole_to_a_month_with_room_for_all_of_it():
    # overload 40 in month 3; month 2 has room for 10 only, month 1 for 50: the whole 140 cannot move
    # (no month has room for it), so it stays and 40 are unplaced; the 30 of b fit whole in month 1.
    orders = [SupplyOrder("a", 3, 140, earliest_month=1), SupplyOrder("b", 3, 30, earliest_month=1)]
    result = level_to_capacity(orders, [50, 10, 130], split=False)
    assert result.moves == [Move("b", 3, 1, 30)]
    assert result.unplaced == [Unplaced("a", 3, 10)]
    assert [(o.sku, o.month, o.quantity) for o in result.orders] == [("a", 3, 140), ("b", 1, 30)]


@pytest.mark.parametrize("lead_time_months", [1, 2])
def test_an_order_is_never_pulled_before_its_earliest_month(lead_time_months):
    # lead 2: earliest month 3, nowhere to go; lead 1: month 2 has no capacity; month 1 is out of reach
    result = level_to_capacity([SupplyOrder.planned("a", 3, 80, lead_time_months)], [100, 0, 50])
    assert result.moves == []
    assert result.unplaced == [Unplaced("a", 3, 30)]


def test_capacity_load_by_hand():
    receipts = pl.DataFrame({
        "supplier": ["S1", "S1", "S1", "S2", "S3"],
        "month": [1, 1, 2, 1, 1],
        "quantity": [60.0, 50.0, 40.0, 10.0, 5.0],
    })
    capacity = pl.DataFrame({"supplier": ["S1", "S3"], "monthly_capacity": [100.0, 0.0]})
    assert capacity_load(receipts, capacity).rows() == [
        ("S1", 1, 110.0, 100.0, 1.1, 10.0, True),
        ("S1", 2, 40.0, 100.0, 0.4, 0.0, False),
        ("S2", 1, 10.0, None, None, 0.0, False),  # no capacity known: unconstrained
        ("S3", 1, 5.0, 0.0, None, 5.0, True),     # zero capacity: any load is overload
    ]


order_lists = st.lists(
    st.tuples(st.sampled_from("abc"), st.integers(1, 6), st.integers(0, 300), st.integers(0, 6)),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(raw=order_lists, capacity=st.lists(st.integers(0, 400), min_size=6, max_size=6))
def test_levelling_conserves_units_and_respects_earliest_months(raw, capacity):
    orders = [SupplyOrder.planned(sku, month, qty, lead) for sku, month, qty, lead in raw]
    result = level_to_capacity(orders, capacity)
    assert sum(o.quantity for o in result.orders) == pytest.approx(sum(o.quantity for o in orders))
    earliest: dict[tuple[str, int], int] = {}
    for o in orders:
        earliest[(o.sku, o.month)] = min(o.earliest_month, earliest.get((o.sku, o.month), o.month))
    for move in result.moves:
        assert earliest[(move.sku, move.from_month)] <= move.to_month < move.from_month
    load = monthly_load(result.orders, 6)
    unplaced = [sum(u.quantity for u in result.unplaced if u.month == m) for m in range(1, 7)]
    for month in range(6):
        assert load[month] - capacity[month] == pytest.approx(unplaced[month]) or (
            load[month] <= capacity[month] + 1e-6 and unplaced[month] == 0
        )


def test_level_supplier_orders_levels_each_supplier_and_leaves_unconstrained_ones_alone():
    orders = pl.DataFrame(
        [("S1", "a", 2, 150.0, 1), ("S1", "b", 2, 20.0, 2), ("S2", "c", 2, 999.0, 1)],
        schema=["supplier", "sku", "month", "quantity", "earliest_month"],
        orient="row",
    )
    capacity = pl.DataFrame({"supplier": ["S1"], "monthly_capacity": [100.0]})
    levelled, unplaced = level_supplier_orders(orders, capacity, horizon=2)
    # S1 month 2: 170, overload 70; a's 70 move to month 1 (spare 100); S2 has no capacity
    assert levelled.rows() == [
        ("S1", "a", 1, 70.0, 1), ("S1", "a", 2, 80.0, 1), ("S1", "b", 2, 20.0, 2), ("S2", "c", 2, 999.0, 1),
    ]
    assert unplaced.is_empty()
