"""Supplier capacity: load against capacity per supplier and month, and levelling of overloads (SPEC §7).

Load is counted in the month the units are received (open POs at their expected month, planned orders at
their planned receipt month): `monthly_capacity` is what a supplier can ship in a month, and a receipt
is the shipment seen from our side. A supplier without a capacity is unconstrained, never overloaded.

Levelling pulls overload into earlier months, because building ahead costs stock while building late
costs sales. The rule, month by month from the first: the overload of a month is taken from its planned
orders in SKU order and moved to the latest earlier month with spare capacity, then the one before,
never before the order's earliest receipt month (an order released in the cycle's month arrives at
month L + 1 at the soonest). Open POs are firm and never move. An order may be split: the moved part
keeps the order's MOQ only in total, which a planner accepts more readily than a stockout. What still
exceeds capacity is reported as unplaced, attributed first to the month's orders that could have moved
(in SKU order), then to the firm ones: the movable ones are the plan we can still change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from sop_pipeline.supply.projection import recovery_month


@dataclass(frozen=True)
class SupplyOrder:
    sku: str
    month: int  # receipt month, 1 = the cycle's month
    quantity: float
    earliest_month: int  # earliest receipt month the order can be pulled to; == month for a firm PO

    @classmethod
    def planned(cls, sku: str, month: int, quantity: float, lead_time_months: int) -> SupplyOrder:
        """A planned order: it can arrive as early as an order released now could."""
        return cls(sku, month, quantity, min(month, max(1, recovery_month(lead_time_months))))

    @classmethod
    def open_po(cls, sku: str, month: int, quantity: float) -> SupplyOrder:
        """An open purchase order: already placed, it arrives when the supplier said."""
        return cls(sku, month, quantity, month)

    @property
    def firm(self) -> bool:
        return self.earliest_month >= self.month


@dataclass(frozen=True)
class Move:
    sku: str
    from_month: int
    to_month: int
    quantity: float


@dataclass(frozen=True)
class Unplaced:
    sku: str
    month: int
    quantity: float  # units above capacity that no earlier month could take


@dataclass(frozen=True)
class Levelling:
    orders: list[SupplyOrder]  # after the moves, one per SKU, month and earliest month, sorted
    moves: list[Move]
    unplaced: list[Unplaced]


def monthly_load(orders: Sequence[SupplyOrder], months: int) -> list[float]:
    """Units received per month 1..months (orders beyond the horizon are left out)."""
    load = [0.0] * months
    for order in orders:
        if 1 <= order.month <= months:
            load[order.month - 1] += order.quantity
    return load


def level_to_capacity(orders: Sequence[SupplyOrder], capacity: Sequence[float], split: bool = True) -> Levelling:
    """Level one supplier's orders against its capacity per month (`capacity[0]` is month 1).

    With `split=False` an order moves only whole, to a month with room for all of it, so that every
    order keeps its MOQ and order multiple (the plan's orders are what gets released to the supplier).
    """
    months = len(capacity)
    # A canonical order first: the loads and remainders add floats, and a sum in another order differs in
    # the last bit, which a rerun of the same cycle must not.
    orders = sorted(orders, key=lambda o: (o.sku, o.month, o.earliest_month, o.quantity))
    load = monthly_load(orders, months)
    remaining: dict[tuple[str, int, int], float] = {}
    for order in orders:
        key = (order.sku, order.month, order.earliest_month)
        remaining[key] = remaining.get(key, 0.0) + order.quantity
    moved: dict[tuple[str, int, int], float] = {}
    moves: list[Move] = []
    unplaced: list[Unplaced] = []
    for month in range(1, months + 1):
        overload = load[month - 1] - capacity[month - 1]
        if overload <= 1e-9:
            continue
        in_month = sorted(k for k in remaining if k[1] == month)
        for key in (k for k in in_month if k[2] < month):
            sku, _, earliest = key
            for target in range(month - 1, max(earliest, 1) - 1, -1):
                room = capacity[target - 1] - load[target - 1]
                if split:
                    take = min(room, overload, remaining[key])
                elif room + 1e-9 >= remaining[key]:
                    take = remaining[key]
                else:
                    continue
                if take <= 1e-9:
                    continue
                remaining[key] -= take
                moved_key = (sku, target, earliest)
                moved[moved_key] = moved.get(moved_key, 0.0) + take
                load[target - 1] += take
                load[month - 1] -= take
                overload -= take
                moves.append(Move(sku, month, target, take))
            if overload <= 1e-9:
                break
        if overload > 1e-9:
            for key in sorted(in_month, key=lambda k: (k[2] >= month, k[0])):
                take = min(overload, remaining[key])
                if take > 1e-9:
                    unplaced.append(Unplaced(key[0], month, take))
                    overload -= take
    merged = dict(remaining)
    for key, quantity in moved.items():
        merged[key] = merged.get(key, 0.0) + quantity
    levelled = [
        SupplyOrder(sku, month, quantity, earliest)
        for (sku, month, earliest), quantity in sorted(merged.items())
        if quantity > 1e-9
    ]
    return Levelling(orders=levelled, moves=moves, unplaced=unplaced)


# Numeric columns only: `month` keeps the caller's type (horizon index or first-of-month date).
CAPACITY_LOAD_SCHEMA = {
    "load": pl.Float64,
    "capacity": pl.Float64,
    "utilisation": pl.Float64,
    "overload": pl.Float64,
    "is_overloaded": pl.Boolean,
}


def capacity_load(receipts: pl.DataFrame, capacity: pl.DataFrame) -> pl.DataFrame:
    """One row per supplier and month with receipts: `supplier, month, load, capacity, utilisation,
    overload, is_overloaded`.

    `receipts` holds `supplier, month, quantity` (open POs and planned orders together); `capacity` holds
    `supplier, monthly_capacity`. Without a capacity, utilisation is null and the month is never
    overloaded; with a zero capacity, any load is an overload and utilisation is null (undefined).
    """
    # Sorted before adding: polars adds a group's rows in no fixed order (see supply.review's docstring).
    load = receipts.group_by("supplier", "month").agg(
        pl.col("quantity").sort().sum().cast(pl.Float64).alias("load")
    )
    frame = load.join(
        capacity.select("supplier", pl.col("monthly_capacity").cast(pl.Float64).alias("capacity")),
        on="supplier",
        how="left",
    )
    overload = pl.when(pl.col("capacity").is_null()).then(0.0).otherwise(
        (pl.col("load") - pl.col("capacity")).clip(lower_bound=0.0)
    )
    return (
        frame.with_columns(
            pl.when(pl.col("capacity") > 0).then(pl.col("load") / pl.col("capacity")).alias("utilisation"),
            overload.alias("overload"),
        )
        .with_columns((pl.col("overload") > 0).alias("is_overloaded"))
        .select("supplier", "month", *CAPACITY_LOAD_SCHEMA)
        .cast(CAPACITY_LOAD_SCHEMA)
        .sort("supplier", "month")
    )


ORDER_SCHEMA = {
    "supplier": pl.String, "sku": pl.String, "month": pl.Int64, "quantity": pl.Float64, "earliest_month": pl.Int64,
}
UNPLACED_SCHEMA = {"supplier": pl.String, "sku": pl.String, "month": pl.Int64, "quantity": pl.Float64}


def level_supplier_orders(
    orders: pl.DataFrame, capacity: pl.DataFrame, horizon: int, split: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`level_to_capacity` for every supplier: (levelled orders, unplaced units), both sorted.

    `orders` holds `supplier, sku, month, quantity, earliest_month` (horizon months; a firm PO has
    earliest_month == month); `capacity` holds `supplier, monthly_capacity`, the same every month. A
    supplier without a capacity keeps its orders as they are.
    """
    limits = dict(capacity.select("supplier", "monthly_capacity").iter_rows())
    by_supplier: dict[str, list[SupplyOrder]] = {}
    for supplier, sku, month, quantity, earliest in orders.select(list(ORDER_SCHEMA)).iter_rows():
        by_supplier.setdefault(supplier, []).append(SupplyOrder(sku, month, quantity, earliest))
    levelled_rows, unplaced_rows = [], []
    for supplier in sorted(by_supplier):
        supplier_orders = by_supplier[supplier]
        if limits.get(supplier) is not None:
            result = level_to_capacity(supplier_orders, [float(limits[supplier])] * horizon, split)
            supplier_orders = result.orders
            unplaced_rows += [(supplier, u.sku, u.month, u.quantity) for u in result.unplaced]
        levelled_rows += [(supplier, o.sku, o.month, o.quantity, o.earliest_month) for o in supplier_orders]
    levelled = pl.DataFrame(levelled_rows, schema=ORDER_SCHEMA, orient="row").sort(list(ORDER_SCHEMA))
    unplaced = pl.DataFrame(unplaced_rows, schema=UNPLACED_SCHEMA, orient="row").sort(list(UNPLACED_SCHEMA))
    return levelled, unplaced
