"""Units to money (SPEC §8): net prices, revenue, gross margin, PO spend under payment terms, collections under
customer terms, the cash balance by month from an opening balance, its lowest point, the funding need beyond a
credit line and the runway, and the gap of the plan to the budget. Plain functions on frames: they know nothing of
SKUs' stock or of scenarios (sop_pipeline.scenario_run feeds them).

Conventions where the spec is silent:
- Months are horizon months 1..H. A payment term in days becomes a month offset of ceil(days / 30):
  30 days after a receipt in month 3 is month 4, 31 days is month 5. Cash is planned by month, so a
  term that ends a day into the next month is paid in that month. Customer terms work the same way:
  revenue earned in month m on a channel with `collection_days` d is collected in month m + ceil(d / 30).
- A PO's deposit is paid in its release month and its balance in its receipt month plus the payment
  offset. Payments before month 1 already happened (an open PO's deposit) and payments after month H
  fall outside the plan: both are left out of the monthly cash.
- Revenue is fulfilled units × the SKU's net price (`net_prices`): its list price × what it realised of list
  over the history given (the 12 months before the cycle), the company's ratio for a SKU without sales there.
  A list price is what a unit would fetch with no discount, commission or promotion; valuing revenue at it
  would overstate every collection by what wholesale accounts and marketplaces keep.
- A supplier without terms is paid in full on receipt; a channel without terms is collected when earned.
- Revenue is planned per SKU, not per channel: each SKU's revenue is split over channels by its share of
  net revenue per channel over the history given (the 12 months before the cycle); a SKU without sales
  there takes the company's mix.
- Revenue earned in the horizon but collected after it (`collections_after_horizon`) is outside the
  horizon's cash. Receivables, revenue earned before the cycle and collected inside the horizon, are
  counted: the same terms applied to the actual net revenue by channel of the months before the cycle
  (the opening cash is as of the cycle's start, before those collections).
- Balance: closing = opening + collections − po_payments − opex − other_payables; the next month opens
  at this month's closing, month 1 at the opening cash. `cash_need` is the cumulative net outflow from the
  cycle's start (opening cash − closing balance), whatever the opening cash is.
- Lowest balance: the smallest closing balance of the horizon and its first month. Funding need =
  max(0, −(lowest closing balance + credit line)): what the plan needs beyond the cash and the credit line.
  Runway = the number of whole months before the first month whose closing balance + credit line is
  below 0 (0: month 1 already is); null when that never happens within the horizon.

Every float sum here adds its values in sorted order, and every running balance walks the months in
order: polars adds a group's values in an order that depends on its threads and on the input's row order
(and a join does not promise an order), and float addition in another order differs in the last bit, so a
rerun of the same cycle would otherwise publish another cash plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl


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


def channel_mix(history: pl.DataFrame) -> pl.DataFrame:
    """`sku, channel, share`: each SKU's share of its net revenue per channel in `history` (`sku, channel,
    net_revenue`, any grain), plus the company's mix under a null SKU; SKUs without revenue have no row."""
    rows = history.select("sku", "channel", pl.col("net_revenue").fill_null(0.0).cast(pl.Float64))
    by_sku = rows.group_by("sku", "channel").agg(pl.col("net_revenue").sort().sum())
    company = rows.group_by("channel").agg(pl.col("net_revenue").sort().sum()).with_columns(
        pl.lit(None, dtype=pl.String).alias("sku"))
    both = pl.concat([by_sku.with_columns(pl.col("sku").cast(pl.String)), company.select(by_sku.columns)])
    return (
        both.filter(pl.col("net_revenue") > 0)
        .with_columns((pl.col("net_revenue") / pl.col("net_revenue").sort().sum().over("sku")).alias("share"))
        .select("sku", "channel", "share")
        .sort("sku", "channel", nulls_last=True)
    )


def net_prices(products: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    """`sku, unit_price`: each product's realised net price, its list price × its price factor.

    `products` holds `sku, unit_price` (list); `history` holds `sku, units, net_revenue` at any grain (the
    12 months before the cycle, every channel). A SKU's price factor is Σ net_revenue ÷ Σ units × list price
    over its history: what its channel discounts, commissions and promotions left of list. A SKU without
    units sold at a list price takes the company's factor (the same ratio over every SKU), and without any
    history the factor is 1: revenue at list price.
    """
    rows = history.select(
        pl.col("sku").cast(pl.String), pl.col("units").fill_null(0.0).cast(pl.Float64),
        pl.col("net_revenue").fill_null(0.0).cast(pl.Float64),
    ).join(products.select(pl.col("sku").cast(pl.String), pl.col("unit_price").cast(pl.Float64).alias("list")),
           on="sku", how="inner").with_columns((pl.col("units") * pl.col("list")).alias("list_value"))
    # Sorted sums: the history arrives in the order it was read (module docstring).
    by_sku = rows.group_by("sku").agg(pl.col("net_revenue", "list_value").sort().sum()).filter(
        pl.col("list_value") > 0)
    net, listed = (float(rows[c].sort().sum()) for c in ("net_revenue", "list_value"))
    company = net / listed if listed > 0 else 1.0
    return (
        products.select(pl.col("sku").cast(pl.String), pl.col("unit_price").cast(pl.Float64))
        .join(by_sku.select("sku", (pl.col("net_revenue") / pl.col("list_value")).alias("factor")), on="sku",
              how="left")
        .select("sku", (pl.col("unit_price") * pl.col("factor").fill_null(company)).alias("unit_price"))
        .sort("sku")
    )


COLLECTIONS_SCHEMA = {"month": pl.Int64, "collections": pl.Float64}


def collections(
    revenue: pl.DataFrame, mix: pl.DataFrame, terms: pl.DataFrame, receivables: pl.DataFrame | None = None,
    receivable_terms: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`month, collections`: cash from customers by the month it arrives (any month ≥ 1, also beyond the
    horizon: the caller decides what falls outside it).

    `revenue` holds `sku, month, revenue` (horizon months); `mix` is `channel_mix`; `terms` holds `channel,
    collection_days`; `receivables` holds `month, channel, revenue` of months ≤ 0 (before the cycle), collected
    under `receivable_terms` (default `terms`): invoices already sent keep the terms they were sent with.
    """
    days = {c: float(d or 0) for c, d in terms.select("channel", "collection_days").iter_rows()}
    owed = days if receivable_terms is None else {
        c: float(d or 0) for c, d in receivable_terms.select("channel", "collection_days").iter_rows()}
    shares: dict[str | None, list[tuple[str, float]]] = {}
    for sku, channel, share in mix.sort("sku", "channel", nulls_last=True).iter_rows():
        shares.setdefault(sku, []).append((channel, share))
    company = shares.get(None, [("", 1.0)])  # no history at all: one channel collected when earned
    amounts: dict[int, list[float]] = {}
    for sku, month, value in revenue.select("sku", "month", "revenue").sort("sku", "month").iter_rows():
        for channel, share in shares.get(sku, company):
            paid = int(month) + payment_month_offset(days.get(channel, 0.0))
            amounts.setdefault(paid, []).append(float(value) * share)
    if receivables is not None:
        for month, channel, value in receivables.select("month", "channel", "revenue").sort(
                "month", "channel").iter_rows():
            paid = int(month) + payment_month_offset(owed.get(channel, 0.0))
            if paid >= 1:
                amounts.setdefault(paid, []).append(float(value or 0.0))
    rows = [{"month": m, "collections": sum(sorted(a))} for m, a in sorted(amounts.items()) if m >= 1]
    return pl.DataFrame(rows, schema=COLLECTIONS_SCHEMA)


def monthly_amounts(frame: pl.DataFrame, value: str, horizon: int) -> pl.DataFrame:
    """`month, <value>` for months 1..horizon: `frame`'s `value` summed per month (`month` a horizon month;
    rows outside the horizon left out), 0 where a month has none."""
    months = pl.DataFrame({"month": list(range(1, horizon + 1))}, schema={"month": pl.Int64})
    summed = frame.select(pl.col("month").cast(pl.Int64), pl.col(value).cast(pl.Float64)).group_by("month").agg(
        pl.col(value).sort().sum())
    return months.join(summed, on="month", how="left").with_columns(pl.col(value).fill_null(0.0)).sort("month")


def instalments(total: float, months: int, value: str = "amount") -> pl.DataFrame:
    """`month, <value>`: `total` paid in equal parts in months 1..`months` (nothing when the total is 0)."""
    rows = [(m, total / months) for m in range(1, months + 1)] if total else []
    return pl.DataFrame(rows, schema={"month": pl.Int64, value: pl.Float64}, orient="row")


CASH_FLOWS = ("collections", "po_payments", "opex", "other_payables")
BALANCE_SCHEMA = {
    "month": pl.Int64, "collections": pl.Float64, "po_payments": pl.Float64, "opex": pl.Float64,
    "other_payables": pl.Float64, "net_cash_flow": pl.Float64, "cash_need": pl.Float64,
    "opening_balance": pl.Float64, "closing_balance": pl.Float64,
}


def cash_balance(flows: pl.DataFrame, opening_cash: float | None) -> pl.DataFrame:
    """One row per month of `flows` (`month, collections, po_payments, opex, other_payables`, one row per
    month): the net cash flow, the cumulative cash need and, from `opening_cash`, the opening and closing
    balance (null without an opening cash: a balance from an unknown start would be a made-up number)."""
    rows, need, balance = [], 0.0, opening_cash
    for month, cash_in, po, opex, other in flows.sort("month").select("month", *CASH_FLOWS).iter_rows():
        net = cash_in - (po + opex + other)
        need -= net
        opening = balance
        balance = None if opening is None else opening + net
        rows.append((month, cash_in, po, opex, other, net, need, opening, balance))
    return pl.DataFrame(rows, schema=BALANCE_SCHEMA, orient="row")


@dataclass(frozen=True)
class LowPoint:
    balance: float
    month: int


def lowest_balance(cash: pl.DataFrame) -> LowPoint | None:
    """The smallest closing balance and its first month; None without balances."""
    rows = cash.filter(pl.col("closing_balance").is_not_null()).sort("closing_balance", "month")
    return LowPoint(float(rows["closing_balance"][0]), int(rows["month"][0])) if rows.height else None


def funding_need(lowest: float | None, credit_line: float) -> float | None:
    """max(0, −(lowest closing balance + credit line)): the cash the plan needs beyond its credit line."""
    return None if lowest is None else max(0.0, -(lowest + credit_line))


def runway_months(cash: pl.DataFrame, credit_line: float) -> int | None:
    """Whole months before the first month whose closing balance + credit line is below 0; null when the
    balance never gets there within the horizon (or there is no balance)."""
    short = cash.filter((pl.col("closing_balance") + credit_line) < 0).sort("month")
    return int(short["month"][0]) - 1 if short.height else None


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
