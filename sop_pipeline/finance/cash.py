"""Units to money (SPEC §8): revenue, gross margin, PO spend under payment terms, inventory value, excess
and obsolete value, cash need and its peak, and the gap of the plan to the budget.

Conventions where the spec is silent:
- Months are horizon months 1..H. A payment term in days becomes a month offset of ceil(days / 30):
  30 days after a receipt in month 3 is month 4, 31 days is month 5. Cash is planned by month, so a
  term that ends a day into the next month is paid in that month.
- A PO's deposit is paid in its release month and its balance in its receipt month plus the payment
  offset. Payments before month 1 already happened (an open PO's deposit) and payments after month H
  fall outside the plan: both are left out of the monthly cash.
- A supplier without terms is paid in full on receipt.
- Revenue is collected in the month it is earned unless a customer term (`collection_days`) is given.
- Cash need = cumulative (PO payments − revenue collected); its peak is the largest cumulative value,
  0 when collections always keep ahead. Other operating costs are not in the plan.

Every float sum here adds its values in sorted order, and every cumulative sum runs over rows sorted by
month: polars adds a group's values in an order that depends on its threads and on the input's row order
(and a join does not promise an order), and float addition in another order differs in the last bit, so a
rerun of the same cycle would otherwise publish another cash plan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from sop_pipeline.supply.projection import MonthPlan
from sop_pipeline.supply.status import DEFAULT_EXCESS_COVER_MONTHS, excess_units, stock_after_last_sale

DAYS_PER_MONTH = 30


def payment_month_offset(days: float) -> int:
    """Whole months after which a payment due `days` later falls."""
    return math.ceil(days / DAYS_PER_MONTH - 1e-9) if days > 0 else 0


@dataclass(frozen=True)
class Payment:
    month: int
    amount: float


def po_payments(
    quantity: float,
    unit_cost: float,
    release_month: int,
    receipt_month: int,
    deposit_share: float = 0.0,
    payment_days: float = 0.0,
) -> list[Payment]:
    """The deposit (release month) and balance (receipt month + payment offset) of one order, amounts > 0."""
    value = quantity * unit_cost
    payments = [
        Payment(release_month, value * deposit_share),
        Payment(receipt_month + payment_month_offset(payment_days), value * (1 - deposit_share)),
    ]
    return [p for p in payments if p.amount > 0]


PO_SPEND_SCHEMA = {"sku": pl.String, "month": pl.Int64, "po_payments": pl.Float64}


def po_spend(orders: pl.DataFrame, suppliers: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """One row per SKU and month with a payment: `sku, month, po_payments`.

    `orders` holds `sku, supplier, release_month, receipt_month, quantity, unit_cost`: planned orders and
    the outstanding quantity of open POs (give those a release month ≤ 0: their deposit is paid).
    `suppliers` holds `supplier, deposit_share, payment_days`.
    """
    terms = {s: (d, p) for s, d, p in suppliers.select("supplier", "deposit_share", "payment_days").iter_rows()}
    amounts: dict[tuple[str, int], list[float]] = {}
    columns = ("sku", "supplier", "release_month", "receipt_month", "quantity", "unit_cost")
    for sku, supplier, release, receipt, quantity, cost in orders.select(columns).iter_rows():
        deposit, days = terms.get(supplier, (0.0, 0.0))
        for payment in po_payments(quantity, cost, release, receipt, deposit, days):
            if 1 <= payment.month <= horizon:
                amounts.setdefault((sku, payment.month), []).append(payment.amount)
    # Sorted before adding: the orders arrive in the order their table was read (module docstring).
    rows = [{"sku": s, "month": m, "po_payments": sum(sorted(a))} for (s, m), a in sorted(amounts.items())]
    return pl.DataFrame(rows, schema=PO_SPEND_SCHEMA)


def sku_month_finance(projection: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU and month of the projection: `sku, family, month, revenue, cogs, gross_margin,
    lost_revenue, inventory_value`.

    `projection` holds `sku, month, fulfilled, shortfall, closing`; `products` holds `sku, family,
    unit_price, unit_cost`. Inventory is valued at closing stock × unit cost.
    """
    frame = projection.join(products.select("sku", "family", "unit_price", "unit_cost"), on="sku", how="left")
    return (
        frame.with_columns(
            (pl.col("fulfilled") * pl.col("unit_price")).alias("revenue"),
            (pl.col("fulfilled") * pl.col("unit_cost")).alias("cogs"),
            (pl.col("shortfall") * pl.col("unit_price")).alias("lost_revenue"),
            (pl.col("closing") * pl.col("unit_cost")).alias("inventory_value"),
        )
        .with_columns((pl.col("revenue") - pl.col("cogs")).alias("gross_margin"))
        .select("sku", "family", "month", "revenue", "cogs", "gross_margin", "lost_revenue", "inventory_value")
        .cast({c: pl.Float64 for c in ("revenue", "cogs", "gross_margin", "lost_revenue", "inventory_value")})
        .sort("sku", "month")
    )


@dataclass(frozen=True)
class StockRiskValue:
    excess_value: float
    obsolete_value: float


def stock_risk_value(
    plans: Sequence[MonthPlan],
    unit_cost: float,
    last_month: int | None = None,
    excess_cover_months: float = DEFAULT_EXCESS_COVER_MONTHS,
) -> StockRiskValue:
    """Excess and obsolete stock of one SKU at cost, with the units the supply exceptions use: the stock of a
    SKU that stops selling is obsolete, and not counted again as excess."""
    obsolete = stock_after_last_sale(plans, last_month)
    excess = 0.0 if obsolete > 0 else excess_units(plans, excess_cover_months)
    return StockRiskValue(excess_value=excess * unit_cost, obsolete_value=obsolete * unit_cost)


CASH_SCHEMA = {
    "month": pl.Int64,
    "revenue_collected": pl.Float64,
    "po_payments": pl.Float64,
    "net_cash_out": pl.Float64,
    "cash_need": pl.Float64,
}


def cash_need(
    revenue: pl.DataFrame, payments: pl.DataFrame, horizon: int, collection_days: float = 0.0
) -> pl.DataFrame:
    """One row per month 1..horizon: `month, revenue_collected, po_payments, net_cash_out, cash_need`.

    `revenue` holds `month, revenue` and `payments` holds `month, po_payments` at any grain (they are
    summed per month). `cash_need` is the cumulative net cash out.
    """
    offset = payment_month_offset(collection_days)
    collected = revenue.group_by("month").agg(
        pl.col("revenue").sort().sum().alias("revenue_collected")
    ).with_columns(pl.col("month") + offset)
    paid = payments.group_by("month").agg(pl.col("po_payments").sort().sum())
    months = pl.DataFrame({"month": list(range(1, horizon + 1))}, schema={"month": pl.Int64})
    return (
        months.join(collected.cast({"month": pl.Int64}), on="month", how="left")
        .join(paid.cast({"month": pl.Int64}), on="month", how="left")
        .fill_null(0.0)
        .sort("month")  # before the cumulative sum: the joins do not promise the months' order
        .with_columns((pl.col("po_payments") - pl.col("revenue_collected")).alias("net_cash_out"))
        .with_columns(pl.col("net_cash_out").cum_sum().alias("cash_need"))
        .select(list(CASH_SCHEMA))
        .cast(CASH_SCHEMA)
        .sort("month")
    )


def peak_cash_need(cash: pl.DataFrame) -> float:
    """The largest cumulative cash need over the horizon, 0 when the plan never needs cash."""
    return max(0.0, float(cash["cash_need"].max() or 0.0))


BUDGET_GAP_SCHEMA = {"plan_revenue": pl.Float64, "budget_revenue": pl.Float64, "gap": pl.Float64}


def budget_gap(plan_revenue: pl.DataFrame, budget: pl.DataFrame) -> pl.DataFrame:
    """One row per family (null = company total) and month in the plan or the budget: `family, month,
    plan_revenue, budget_revenue, gap` with gap = plan − budget (null where there is no budget).

    `plan_revenue` holds `family, month, revenue` at any finer grain; `budget` holds `month, family,
    revenue_target` as landed (an empty family is the company total). Months must share one type.
    """
    by_family = plan_revenue.group_by("family", "month").agg(pl.col("revenue").sort().sum().alias("plan_revenue"))
    total = plan_revenue.group_by("month").agg(pl.col("revenue").sort().sum().alias("plan_revenue")).with_columns(
        pl.lit(None, dtype=pl.String).alias("family")
    )
    plan = pl.concat([by_family.with_columns(pl.col("family").cast(pl.String)), total.select(by_family.columns)])
    family = pl.col("family").cast(pl.String)
    targets = (
        budget.with_columns(pl.when(family == "").then(None).otherwise(family).alias("family"))
        .group_by("family", "month")
        .agg(pl.col("revenue_target").sort().sum().alias("budget_revenue"))
    )
    return (
        plan.join(targets, on=["family", "month"], how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("plan_revenue").fill_null(0.0))
        .with_columns((pl.col("plan_revenue") - pl.col("budget_revenue")).alias("gap"))
        .select("family", "month", *BUDGET_GAP_SCHEMA)
        .cast(BUDGET_GAP_SCHEMA)
        .sort("family", "month", nulls_last=True)
    )
