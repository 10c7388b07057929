"""One policy's stock through the replayed months: each month planned by the live supply review
(`supply.review.plan_supply`), its month-1 orders placed, its demand met from stock (docs/replay.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.scenario_run import SupplyInputs
from sop_pipeline.scenarios import Scenario
from sop_pipeline.supply.projection import recovery_month
from sop_pipeline.supply.review import plan_supply

PRODUCT_COLUMNS = ("sku", "family", "supplier", "status", "abc_class", "unit_cost", "unit_price", "lead_time_months",
                   "moq", "order_multiple", "discontinue_date")
NO_BUDGET = pl.DataFrame(schema={"month": pl.Date, "family": pl.String, "revenue_target": pl.Float64})
ROW_SCHEMA = {
    "sku": pl.String, "month": pl.Date, "opening": pl.Float64, "receipts": pl.Float64, "demand": pl.Float64,
    "fulfilled": pl.Float64, "lost": pl.Float64, "closing": pl.Float64, "ordered": pl.Float64,
    "safety_stock": pl.Float64, "service_level": pl.Float64, "is_estimated": pl.Boolean,
}


@dataclass(frozen=True)
class PolicyMonth:
    """What one policy plans with at one month: its forecast from that month (`sku, month, forecast`), each
    SKU's safety stock and the service level it was computed for."""

    forecast: pl.DataFrame
    safety_stock: Mapping[str, float]
    service_level: Mapping[str, float]


def target_stock(forecast: Sequence[float], safety_stock: float, lead_time_months: int) -> float:
    """Stock a plan wants on hand when it starts: its safety stock plus its forecast of the months before an
    order released now can arrive (`forecast[0]` is this month)."""
    months = recovery_month(lead_time_months) - 1
    return safety_stock + sum(max(f, 0.0) for f in forecast[:months])


def release_orders(
    month: date, horizon: int, products: pl.DataFrame, plan: PolicyMonth, on_hand: Mapping[str, float],
    pipeline: Mapping[str, Mapping[date, float]], suppliers: pl.DataFrame, scenario: Scenario,
    excess_cover_months: float,
) -> list[tuple[str, date, float]]:
    """The decision of one month: `(sku, receipt month, units)` of the orders the live supply review would
    release now, planning from `on_hand`, the orders still in `pipeline` and the policy's plan.

    `products` holds PRODUCT_COLUMNS of the SKUs present this month (their ABC class as of `month`)."""
    skus = sorted(products["sku"])
    costs = dict(products.select("sku", "unit_cost").iter_rows())
    open_rows = [(sku, arrival, units, units * float(costs[sku])) for sku in skus
                 for arrival, units in sorted(pipeline.get(sku, {}).items()) if units > 0]
    forecast = plan.forecast.filter(pl.col("sku").is_in(skus)).select(
        "sku", "month", *[pl.col("forecast").clip(lower_bound=0.0).alias(c) for c in ("p10", "consensus", "p90")]
    )
    inputs = SupplyInputs(
        cycle=month, horizon=horizon, products=products, plan=forecast,
        on_hand=pl.DataFrame([(sku, on_hand.get(sku, 0.0)) for sku in skus],
                             schema={"sku": pl.String, "on_hand": pl.Float64}, orient="row"),
        open_supply=pl.DataFrame(open_rows, schema={"sku": pl.String, "expected_month": pl.Date,
                                                    "open_units": pl.Float64, "open_value": pl.Float64}, orient="row"),
        suppliers=suppliers,
        safety_stock=pl.DataFrame([(sku, plan.safety_stock.get(sku, 0.0)) for sku in skus],
                                  schema={"sku": pl.String, "safety_stock": pl.Float64}, orient="row"),
        budget=NO_BUDGET,  # the scenario's purchase budget is a lever; the budget file is revenue targets
        excess_cover_months=excess_cover_months,
    )
    released = plan_supply(inputs, scenario).released_in(1)
    return [(sku, add_months(month, receipt - 1), units) for sku, receipt, units in released]


@dataclass
class Ledger:
    """One policy's stock over the replay: on hand and the orders on their way, by SKU."""

    on_hand: dict[str, float] = field(default_factory=dict)
    pipeline: dict[str, dict[date, float]] = field(default_factory=dict)
    rows: list[tuple] = field(default_factory=list)

    def enter(self, sku: str, plan: PolicyMonth, lead_time_months: int) -> None:
        """Start a SKU at its policy's target stock: its safety stock plus its forecast of the
        months before an order placed now can arrive."""
        months = plan.forecast.filter(pl.col("sku") == sku).sort("month")["forecast"].to_list()
        self.on_hand[sku] = target_stock(months, plan.safety_stock.get(sku, 0.0), lead_time_months)
        self.pipeline.setdefault(sku, {})

    def live_month(
        self, month: date, horizon: int, products: pl.DataFrame, plan: PolicyMonth,
        demand: Mapping[str, tuple[float, bool]], suppliers: pl.DataFrame, scenario: Scenario,
        excess_cover_months: float,
    ) -> list[tuple[str, date, float]]:
        """Plan, order and meet one month's demand for the SKUs of `products`; returns the orders released."""
        orders = release_orders(month, horizon, products, plan, self.on_hand, self.pipeline, suppliers, scenario,
                                excess_cover_months)
        ordered: dict[str, float] = {}
        for sku, arrival, units in orders:
            self.pipeline[sku][arrival] = self.pipeline[sku].get(arrival, 0.0) + units
            ordered[sku] = ordered.get(sku, 0.0) + units
        for sku in sorted(products["sku"]):
            opening = self.on_hand[sku]
            receipts = self.pipeline[sku].pop(month, 0.0)
            wanted, estimated = demand.get(sku, (0.0, False))
            fulfilled = min(wanted, opening + receipts)
            closing = opening + receipts - fulfilled
            self.on_hand[sku] = closing
            self.rows.append((sku, month, opening, receipts, wanted, fulfilled, wanted - fulfilled, closing,
                              ordered.get(sku, 0.0), plan.safety_stock.get(sku, 0.0),
                              plan.service_level.get(sku), estimated))
        return orders

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=ROW_SCHEMA, orient="row").sort("sku", "month")
