"""The supply review under one scenario (SPEC §7): projected inventory, planned orders, supply gaps,
supplier capacity, SKU status and exceptions, in units (money is sop_pipeline.finance; the scenario run,
sop_pipeline.scenario_run, calls both).

Every scenario runs this same code; only its levers differ (sop_pipeline.scenarios). The steps:

1. Demand: the scenario's quantile of the locked consensus plan, times its multiplier.
2. Receipts: open PO lines at their expected month, later by the scenario's supplier delay. A line that
   then lands beyond the horizon leaves the projection (and its payment the cash plan).
3. Planned orders: each SKU is projected month by month; when closing stock would fall below safety stock
   an order brings it back, rounded up to the MOQ and order multiple, released one lead time (plus the
   delay) before the month it is needed. A need whose release month has passed is a supply gap.
4. Purchase budget (if the scenario has one): release months are visited in order; a month whose planned
   orders cost more than the budget keeps them by priority (ABC class, then SKU) while they fit and refuses
   the rest. A refused SKU is re-planned without that order, which can only move its later orders, so the
   months already visited stay within budget.
5. Capacity: each supplier's receipts (open POs and planned orders) are levelled against its monthly
   capacity times the scenario's multiplier. Planned orders move whole to an earlier month with room, so
   they keep their MOQ and multiple; what still does not fit is cut from the month's planned orders in
   whole order multiples (an order left below its MOQ is dropped): a supplier cannot ship it, so it is not
   projected as received. Open POs are firm: an overload they cause is reported, not cut.
6. The final projection with those receipts, from which status, exceptions and gaps follow. They
   all read a stockout and a month below safety stock from `MonthPlan` (sop_pipeline.supply.projection),
   the one place those are defined.

Pure polars and Python, no Dagster: `review_supply` is called by the scenario run and by tests.

A rerun publishes the same numbers to the last bit: the inputs arrive in whatever order their tables were
read, polars adds a group's values in an order that depends on its threads, and a join does not promise an
order. So every float sum adds its values sorted (`.sort().sum()`, as on the forecast path), rows summed in
Python are walked in a canonical order, and cumulative sums run over rows sorted by month.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.cycle import months_between
from sop_pipeline.scenarios import Scenario, scenario_demand
from sop_pipeline.supply.capacity import Unplaced, capacity_load, level_supplier_orders
from sop_pipeline.supply.projection import (
    MonthPlan,
    project_inventory,
    project_with_receipts,
    recovery_month,
    release_month,
)
from sop_pipeline.supply.status import (
    capacity_exceptions,
    exceptions_frame,
    last_selling_month,
    sku_exceptions,
    sku_status,
    stock_risk_value,
)

_EPSILON = 1e-9
ABC_PRIORITY = {"A": 0, "B": 1, "C": 2}


class ReviewInputs(Protocol):
    """What the review reads, as of the cycle (sop_pipeline.scenario_run.SupplyInputs has it). Frames:

    - `products`: dim_products (`sku, family, supplier, status, abc_class, unit_cost, unit_price,
      lead_time_months, moq, order_multiple, discontinue_date`).
    - `plan`: the locked demand plan (`sku, month, p10, consensus, p90`).
    - `on_hand`: `sku, on_hand`. `open_supply`: `sku, expected_month, open_units, open_value`.
    - `suppliers`: `supplier, monthly_capacity, deposit_share, payment_days` (may be empty).
    - `safety_stock`: `sku, safety_stock`.
    """

    cycle: date
    horizon: int
    products: pl.DataFrame
    plan: pl.DataFrame
    on_hand: pl.DataFrame
    open_supply: pl.DataFrame
    suppliers: pl.DataFrame
    safety_stock: pl.DataFrame
    excess_cover_months: float


@dataclass(frozen=True)
class Sku:
    sku: str
    family: str
    supplier: str | None
    abc_class: str | None
    unit_cost: float
    unit_price: float
    lead_time: int  # months, including the scenario's supplier delay
    moq: int
    order_multiple: int
    last_month: int | None  # horizon month of the last sale (status.last_selling_month)
    on_hand: float
    demand: list[float]
    receipts: list[float]
    safety_stock: list[float]

    def plan(self, blocked: set[int] | frozenset[int] = frozenset()) -> list[MonthPlan]:
        return project_inventory(self.on_hand, self.demand, self.receipts, self.safety_stock, self.lead_time,
                                 self.moq, self.order_multiple, blocked)


@dataclass(frozen=True)
class SupplyPlan:
    """Steps 1–5 of the review: the SKUs reviewed, and their planned receipts by (SKU, horizon month)
    before and after capacity levelling, the units cut, and the firm units no month could take."""

    skus: list[Sku]
    before: dict[tuple[str, int], float]
    planned: dict[tuple[str, int], float]
    cuts: dict[tuple[str, int], float]
    unplaced_firm: pl.DataFrame

    def released_in(self, month: int = 1) -> list[tuple[str, int, float]]:
        """`(sku, receipt month, units)` of the planned orders released in horizon `month`, sorted: what a
        planner places with the supplier that month (month 1: now)."""
        by_sku = {s.sku: s for s in self.skus}
        return [(sku, receipt, units) for (sku, receipt), units in sorted(self.planned.items())
                if order_release_month(by_sku[sku], receipt) == month]


def order_release_month(item: Sku, receipt_month: int) -> int:
    """Horizon month a planned order received in `receipt_month` is released: one lead time before, never
    before the cycle's month."""
    return max(release_month(receipt_month, item.lead_time), 1)


@dataclass(frozen=True)
class SupplyReview:
    """The review's tables, and the SKUs it reviewed (their prices and costs under the scenario)."""

    inventory_projection: pl.DataFrame
    planned_orders: pl.DataFrame
    supply_gaps: pl.DataFrame
    capacity_load: pl.DataFrame
    sku_status: pl.DataFrame
    exceptions: pl.DataFrame
    skus: list[Sku]


def month_index(cycle: date, month: date) -> int:
    """Horizon month of a date: 1 for the cycle's month."""
    return months_between(cycle, month) + 1


def _capacity(suppliers: pl.DataFrame, scenario: Scenario) -> pl.DataFrame:
    """`supplier, monthly_capacity` under the scenario's capacity multiplier (null: no capacity given)."""
    return suppliers.select(
        "supplier", (pl.col("monthly_capacity").cast(pl.Float64) * scenario.capacity_multiplier).alias("monthly_capacity")
    )


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's rows in an order fixed by their values alone, so that what is added up while walking them
    does not depend on the order they were read in."""
    return frame.sort(frame.columns, nulls_last=True)


def _by_sku(frame: pl.DataFrame, value: str) -> dict[str, float]:
    return {sku: float(v or 0.0) for sku, v in frame.select("sku", value).iter_rows()}


def build_skus(inputs: ReviewInputs, scenario: Scenario) -> list[Sku]:
    """The SKUs to review: every product with planned demand, stock on hand or open supply."""
    horizon, cycle = inputs.horizon, inputs.cycle
    demand: dict[str, list[float]] = defaultdict(lambda: [0.0] * horizon)
    for sku, month, units in scenario_demand(inputs.plan, scenario).select("sku", "month", "demand").iter_rows():
        index = month_index(cycle, month)
        if 1 <= index <= horizon:
            demand[sku][index - 1] += max(float(units), 0.0)
    suppliers = dict(inputs.products.select("sku", "supplier").iter_rows())
    receipts: dict[str, list[float]] = defaultdict(lambda: [0.0] * horizon)
    # Lines landing in the same month are added in a canonical order (module docstring).
    for sku, month, units in canonical(inputs.open_supply.select("sku", "expected_month", "open_units")).iter_rows():
        index = max(month_index(cycle, month), 1) + scenario.delay_for(suppliers.get(sku))
        if index <= horizon:
            receipts[sku][index - 1] += float(units)
    on_hand = _by_sku(inputs.on_hand, "on_hand")
    buffers = _by_sku(inputs.safety_stock, "safety_stock")
    skus = []
    columns = ("sku", "family", "supplier", "abc_class", "status", "unit_cost", "unit_price", "lead_time_months",
               "moq", "order_multiple", "discontinue_date")
    for row in inputs.products.sort("sku").select(columns).iter_rows(named=True):
        sku = row["sku"]
        stock = max(on_hand.get(sku, 0.0), 0.0)
        if sku not in demand and sku not in receipts and stock <= _EPSILON:
            continue
        last = last_selling_month(cycle, row["status"], row["discontinue_date"], horizon)
        buffer = buffers.get(sku, 0.0)
        skus.append(Sku(
            sku=sku, family=row["family"], supplier=row["supplier"], abc_class=row["abc_class"],
            unit_cost=float(row["unit_cost"]), unit_price=float(row["unit_price"]) * scenario.price_multiplier,
            lead_time=int(row["lead_time_months"]) + scenario.delay_for(row["supplier"]),
            moq=int(row["moq"]), order_multiple=int(row["order_multiple"]), last_month=last, on_hand=stock,
            demand=list(demand[sku]) if sku in demand else [0.0] * horizon,
            receipts=list(receipts[sku]) if sku in receipts else [0.0] * horizon,
            # No buffer once the SKU has stopped selling: there is no demand left to protect.
            safety_stock=[buffer if last is None or m <= last else 0.0 for m in range(1, horizon + 1)],
        ))
    return skus


def plan_within_budget(skus: Sequence[Sku], budget: float | None) -> dict[str, list[MonthPlan]]:
    """Each SKU's projection with planned orders; with a budget, release months stay within it (step 4)."""
    plans = {s.sku: s.plan() for s in skus}
    if budget is None:
        return plans
    by_sku = {s.sku: s for s in skus}
    blocked: dict[str, set[int]] = defaultdict(set)
    visited = 0
    while True:
        releases: dict[int, list[tuple[int, str, int, float]]] = defaultdict(list)
        for sku, months in plans.items():
            item = by_sku[sku]
            for p in months:
                if p.planned_receipts > 0 and p.planned_release is not None and p.planned_release > visited:
                    priority = ABC_PRIORITY.get(item.abc_class or "C", 2)
                    releases[p.planned_release].append((priority, sku, p.month, p.planned_receipts * item.unit_cost))
        if not releases:
            return plans
        release = min(releases)
        spent, refused = 0.0, []
        for _, sku, month, value in sorted(releases[release]):
            if spent + value <= budget + _EPSILON:
                spent += value
            else:
                refused.append((sku, month))
        for sku, month in refused:
            blocked[sku].add(month)
        for sku in sorted({sku for sku, _ in refused}):
            plans[sku] = by_sku[sku].plan(blocked[sku])
        visited = release


def _planned_quantities(plans: Mapping[str, list[MonthPlan]]) -> dict[tuple[str, int], float]:
    return {(sku, p.month): p.planned_receipts for sku, months in plans.items() for p in months if p.planned_receipts > 0}


def level_to_suppliers(
    skus: Sequence[Sku], planned: Mapping[tuple[str, int], float], suppliers: pl.DataFrame, scenario: Scenario,
    horizon: int,
) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], float], pl.DataFrame]:
    """Step 5: (planned receipts after levelling and cuts, units cut per SKU and month, unplaced firm units)."""
    by_sku = {s.sku: s for s in skus}
    rows = []
    for s in skus:
        supplier = s.supplier or ""
        for month, units in enumerate(s.receipts, start=1):
            if units > 0:
                rows.append((supplier, s.sku, month, units, month))
    for (sku, month), units in planned.items():
        item = by_sku[sku]
        rows.append((item.supplier or "", sku, month, units, min(month, max(1, recovery_month(item.lead_time)))))
    orders = pl.DataFrame(rows, schema={"supplier": pl.String, "sku": pl.String, "month": pl.Int64,
                                        "quantity": pl.Float64, "earliest_month": pl.Int64}, orient="row")
    capacity = _capacity(suppliers, scenario).filter(pl.col("monthly_capacity").is_not_null())
    levelled, unplaced = level_supplier_orders(orders, capacity, horizon, split=False)
    firm = {(s.sku, m): u for s in skus for m, u in enumerate(s.receipts, start=1) if u > 0}
    after: dict[tuple[str, int], float] = defaultdict(float)
    for sku, month, units in levelled.select("sku", "month", "quantity").iter_rows():
        after[(sku, month)] += units
    result = {key: units - firm.get(key, 0.0) for key, units in after.items() if units - firm.get(key, 0.0) > _EPSILON}
    cuts: dict[tuple[str, int], float] = {}
    firm_unplaced = []
    for supplier, sku, month, units in unplaced.select("supplier", "sku", "month", "quantity").iter_rows():
        item, key = by_sku[sku], (sku, month)
        order = result.get(key, 0.0)
        if order <= _EPSILON:
            firm_unplaced.append((supplier, sku, month, units))
            continue
        cut = min(math.ceil(units / item.order_multiple - 1e-9) * item.order_multiple, order)
        kept = order - cut
        if kept < item.moq:
            cut, kept = order, 0.0
        cuts[key] = cut
        if kept > _EPSILON:
            result[key] = kept
        else:
            del result[key]
    unplaced_firm = pl.DataFrame(firm_unplaced, schema={"supplier": pl.String, "sku": pl.String, "month": pl.Int64,
                                                        "quantity": pl.Float64}, orient="row")
    return result, cuts, unplaced_firm


PROJECTION_SCHEMA = {
    "sku": pl.String, "family": pl.String, "supplier": pl.String, "month": pl.Date, "horizon_month": pl.Int32,
    "opening": pl.Float64, "receipts": pl.Float64, "planned_receipts": pl.Float64, "demand": pl.Float64,
    "fulfilled": pl.Float64, "shortfall": pl.Float64, "closing": pl.Float64, "safety_stock": pl.Float64,
    "is_below_safety_stock": pl.Boolean, "is_supply_gap": pl.Boolean,
}
PLANNED_ORDERS_SCHEMA = {
    "sku": pl.String, "family": pl.String, "supplier": pl.String, "release_month": pl.Date,
    "receipt_month": pl.Date, "quantity": pl.Float64, "unit_cost": pl.Float64, "order_value": pl.Float64,
    "moq": pl.Int64, "order_multiple": pl.Int64, "lead_time_months": pl.Int32, "pulled_earlier": pl.Boolean,
    "capacity_cut": pl.Float64,
}
SUPPLY_GAPS_SCHEMA = {
    "sku": pl.String, "family": pl.String, "supplier": pl.String, "month": pl.Date, "gap_type": pl.String,
    "shortfall_units": pl.Float64, "safety_stock_deficit": pl.Float64, "revenue_at_risk": pl.Float64,
    "recovery_month": pl.Date,
}
SKU_STATUS_SCHEMA = {
    "sku": pl.String, "family": pl.String, "supplier": pl.String, "abc_class": pl.String, "status": pl.String,
    "on_hand": pl.Float64, "safety_stock": pl.Float64, "demand": pl.Float64, "fulfilled": pl.Float64,
    "shortfall": pl.Float64, "ending_stock": pl.Float64, "inventory_value_end": pl.Float64,
    "excess_value": pl.Float64, "obsolete_value": pl.Float64,
}
CAPACITY_SCHEMA = {
    "supplier": pl.String, "month": pl.Date, "load": pl.Float64, "capacity": pl.Float64, "utilisation": pl.Float64,
    "overload": pl.Float64, "is_overloaded": pl.Boolean,
}
EXCEPTIONS_SCHEMA = {
    "sku": pl.String, "supplier": pl.String, "exception_type": pl.String, "month": pl.Date, "units": pl.Float64,
    "severity": pl.Float64, "suggested_action": pl.String,
}
def _frame(rows: list[dict], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict(schema)) if rows else pl.DataFrame(schema=dict(schema))


def plan_supply(inputs: ReviewInputs, scenario: Scenario) -> SupplyPlan:
    """Steps 1–5 under one scenario: the SKUs, their planned orders within the budget, levelled to each
    supplier's capacity. The review projects from it; the plan replay (sop_pipeline.replay) releases its
    month-1 orders, one past month at a time."""
    skus = build_skus(inputs, scenario)
    before = _planned_quantities(plan_within_budget(skus, scenario.purchase_budget))
    planned, cuts, unplaced_firm = level_to_suppliers(skus, before, inputs.suppliers, scenario, inputs.horizon)
    return SupplyPlan(skus=skus, before=before, planned=planned, cuts=cuts, unplaced_firm=unplaced_firm)


def review_supply(inputs: ReviewInputs, scenario: Scenario) -> SupplyReview:
    """The whole supply review of one scenario (steps in the module docstring)."""
    cycle, horizon = inputs.cycle, inputs.horizon

    def month(index: int) -> date:
        return add_months(cycle, index - 1)

    supply = plan_supply(inputs, scenario)
    skus, before, planned, cuts = supply.skus, supply.before, supply.planned, supply.cuts

    projection, orders, gaps, statuses, found = [], [], [], [], []
    for s in skus:
        receipts = [planned.get((s.sku, m), 0.0) for m in range(1, horizon + 1)]
        plans = project_with_receipts(s.on_hand, s.demand, s.receipts, receipts, s.safety_stock, s.lead_time)
        recovery = recovery_month(s.lead_time)
        for p in plans:
            projection.append({
                "sku": s.sku, "family": s.family, "supplier": s.supplier, "month": month(p.month),
                "horizon_month": p.month, "opening": p.opening, "receipts": p.receipts,
                "planned_receipts": p.planned_receipts, "demand": p.demand, "fulfilled": p.fulfilled,
                "shortfall": p.shortfall, "closing": p.closing, "safety_stock": p.safety_stock,
                "is_below_safety_stock": p.is_below_safety_stock, "is_supply_gap": p.gap,
            })
            if p.planned_receipts > 0:
                release = order_release_month(s, p.month)
                orders.append({
                    "sku": s.sku, "family": s.family, "supplier": s.supplier, "release_month": month(release),
                    "receipt_month": month(p.month), "quantity": p.planned_receipts, "unit_cost": s.unit_cost,
                    "order_value": p.planned_receipts * s.unit_cost, "moq": s.moq,
                    "order_multiple": s.order_multiple, "lead_time_months": s.lead_time,
                    "pulled_earlier": p.planned_receipts > before.get((s.sku, p.month), 0.0) + _EPSILON,
                    "capacity_cut": cuts.get((s.sku, p.month), 0.0),
                })
            if p.gap:
                gaps.append({
                    "sku": s.sku, "family": s.family, "supplier": s.supplier, "month": month(p.month),
                    "gap_type": p.gap_type, "shortfall_units": p.shortfall,
                    "safety_stock_deficit": max(p.safety_stock - p.closing, 0.0),
                    "revenue_at_risk": p.shortfall * s.unit_price, "recovery_month": month(recovery),
                })
        risk = stock_risk_value(plans, s.unit_cost, s.last_month, inputs.excess_cover_months)
        statuses.append({
            "sku": s.sku, "family": s.family, "supplier": s.supplier, "abc_class": s.abc_class,
            "status": sku_status(plans, s.last_month, inputs.excess_cover_months), "on_hand": s.on_hand,
            "safety_stock": max(s.safety_stock), "demand": sum(s.demand), "fulfilled": sum(p.fulfilled for p in plans),
            # Lost sales of its stockout months only: > 0 exactly when the status is stockout, never float noise.
            "shortfall": sum(p.shortfall for p in plans if p.is_stockout), "ending_stock": plans[-1].closing,
            "inventory_value_end": plans[-1].closing * s.unit_cost,
            "excess_value": risk.excess_value, "obsolete_value": risk.obsolete_value,
        })
        found += sku_exceptions(s.sku, plans, s.unit_price, s.unit_cost, s.lead_time, s.last_month,
                                inputs.excess_cover_months, s.supplier)
    # Units a supplier cannot ship even after levelling: firm PO units left over, and planned units cut.
    supplier_of = {s.sku: s.supplier or "" for s in skus}
    over = [(supplier, sku, m, units) for supplier, sku, m, units in supply.unplaced_firm.iter_rows()]
    over += [(supplier_of[sku], sku, m, units) for (sku, m), units in sorted(cuts.items())]
    prices = {s.sku: s.unit_price for s in skus}
    for supplier in sorted({row[0] for row in over}):
        items = [Unplaced(sku, m, units) for name, sku, m, units in over if name == supplier]
        found += capacity_exceptions(supplier, items, prices)

    projection_frame = _frame(projection, PROJECTION_SCHEMA)
    orders_frame = _frame(orders, PLANNED_ORDERS_SCHEMA)
    exceptions = exceptions_frame(found).with_columns(
        pl.col("month").map_elements(month, return_dtype=pl.Date)
    ).select(list(EXCEPTIONS_SCHEMA)).cast(EXCEPTIONS_SCHEMA)
    return SupplyReview(
        inventory_projection=projection_frame, planned_orders=orders_frame,
        supply_gaps=_frame(gaps, SUPPLY_GAPS_SCHEMA),
        capacity_load=_capacity_grid(projection_frame, inputs, scenario, month),
        sku_status=_frame(statuses, SKU_STATUS_SCHEMA), exceptions=exceptions, skus=skus,
    )


def _capacity_grid(projection: pl.DataFrame, inputs: ReviewInputs, scenario: Scenario, month) -> pl.DataFrame:
    """Load against capacity for every reviewed supplier and horizon month (0 load where nothing arrives)."""
    receipts = projection.group_by("supplier", "horizon_month").agg(
        (pl.col("receipts") + pl.col("planned_receipts")).sort().sum().alias("quantity")
    ).rename({"horizon_month": "month"}).filter(pl.col("supplier").is_not_null())
    load = capacity_load(receipts.cast({"month": pl.Int64}), _capacity(inputs.suppliers, scenario))
    return (
        load.with_columns(pl.col("month").map_elements(month, return_dtype=pl.Date))
        .select(list(CAPACITY_SCHEMA)).cast(CAPACITY_SCHEMA).sort("supplier", "month")
    )
