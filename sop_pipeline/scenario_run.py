"""One scenario through the S&OP cycle's supply and finance logic (SPEC §7–§9): the supply review in units
(sop_pipeline.supply.review), then its money (sop_pipeline.finance.cash): the cash plan by month, the gap to
the budget and the scenario's row of the comparison grid.

The supply review knows nothing of cash and the finance functions nothing of the scenario loop; this module
is the one place both meet. `run_scenario` is called by the scenario asset, the plan bridge and tests.

Revenue, lost revenue and revenue at risk are at each SKU's net price (`at_net_prices`): its list price × what
it realised of list in the 12 months before the cycle.

What the cash plan covers (`cash_basis` says it per scenario, in words):
- collections from customers under the payment terms of each channel (`payment_terms/`), each SKU's revenue
  split over channels by its net revenue of the 12 months before the cycle; revenue earned before the cycle
  and collected inside the horizon (receivables) from the same history and terms; revenue collected after
  the horizon is left out of the months (`collections_after_horizon` in the grid);
- payments to suppliers (`po_payments`), operating expenses (`opex/` × the scenario's `opex_multiplier`, plus
  its launch spend) and other payables (`payables/`; one due before the cycle is overdue and paid in month 1,
  one due after the horizon is outside it);
- the balance from the opening cash of the latest `cash_position/` row dated on or before the cycle's first
  day, and the credit line of that row.
Without an input the plan says what it leaves out: without payment terms revenue is collected when earned;
without opex or payables they are 0 and named as left out; without a cash position the balances, funding
need and runway are null (a balance from an unknown start would be a made-up number) while `cash_need`, the
cumulative cash the plan consumes from the cycle's start, still shows. Definitions: sop_pipeline.finance.cash.

Rerun determinism as in sop_pipeline.supply.review: sorted sums, ordered walks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.finance.cash import (
    BALANCE_SCHEMA,
    budget_gap,
    cash_balance,
    channel_mix,
    collections,
    funding_need,
    instalments,
    lowest_balance,
    monthly_amounts,
    net_prices,
    peak_cash_need,
    po_spend,
    runway_months,
    sku_month_finance,
)
from sop_pipeline.plan.lock import current_plan
from sop_pipeline.scenarios import Scenario
from sop_pipeline.supply.review import (
    CAPACITY_SCHEMA,
    EXCEPTIONS_SCHEMA,
    PLANNED_ORDERS_SCHEMA,
    PROJECTION_SCHEMA,
    SKU_STATUS_SCHEMA,
    SUPPLY_GAPS_SCHEMA,
    Sku,
    canonical,
    month_index,
    review_supply,
)
from sop_pipeline.supply.safety_stock import safety_stock_by_sku
from sop_pipeline.supply.status import DEFAULT_EXCESS_COVER_MONTHS, STATUSES
from sop_pipeline.warehouse import fetch_frame

if TYPE_CHECKING:
    from sop_pipeline.config import SopConfig


@dataclass(frozen=True)
class SupplyInputs:
    """Everything a scenario run reads, as of the cycle. Frames:

    - `products`: dim_products (`sku, family, supplier, status, abc_class, unit_cost, unit_price,
      lead_time_months, moq, order_multiple, discontinue_date`).
    - `plan`: the locked demand plan (`sku, month, p10, consensus, p90`).
    - `on_hand`: `sku, on_hand`. `open_supply`: `sku, expected_month, open_units, open_value`.
    - `suppliers`: `supplier, monthly_capacity, deposit_share, payment_days` (may be empty).
    - `budget`: `month, family, revenue_target` (may be empty). `safety_stock`: `sku, safety_stock`.
    - The cash inputs, each None or empty when not given: `sales_history` (`month, sku, channel,
      net_revenue` of the 12 months before the cycle), `payment_terms` (`channel, collection_days`),
      `cash_position` (`as_of, opening_cash, credit_line`), `opex` (`month, category, amount`) and
      `payables` (`due_date, description, amount`).
    """

    cycle: date
    horizon: int
    products: pl.DataFrame
    plan: pl.DataFrame
    on_hand: pl.DataFrame
    open_supply: pl.DataFrame
    suppliers: pl.DataFrame
    budget: pl.DataFrame
    safety_stock: pl.DataFrame
    excess_cover_months: float = DEFAULT_EXCESS_COVER_MONTHS
    sales_history: pl.DataFrame | None = None
    payment_terms: pl.DataFrame | None = None
    cash_position: pl.DataFrame | None = None
    opex: pl.DataFrame | None = None
    payables: pl.DataFrame | None = None


@dataclass(frozen=True)
class ScenarioResult:
    inventory_projection: pl.DataFrame
    planned_orders: pl.DataFrame
    supply_gaps: pl.DataFrame
    capacity_load: pl.DataFrame
    sku_status: pl.DataFrame
    exceptions: pl.DataFrame
    cash_plan: pl.DataFrame
    budget_gap: pl.DataFrame
    summary: dict[str, object]


CASH_PLAN_SCHEMA = {
    "month": pl.Date, "horizon_month": pl.Int32, "revenue": pl.Float64, "cogs": pl.Float64,
    "gross_margin": pl.Float64, "lost_revenue": pl.Float64, "collections": pl.Float64,
    "po_payments": pl.Float64, "opex": pl.Float64, "other_payables": pl.Float64, "net_cash_flow": pl.Float64,
    "cash_need": pl.Float64, "opening_balance": pl.Float64, "closing_balance": pl.Float64,
    "credit_line": pl.Float64, "funding_need": pl.Float64, "is_lowest_balance": pl.Boolean,
    "inventory_cash_need": pl.Float64, "inventory_value": pl.Float64,
    "budget_revenue": pl.Float64, "budget_gap": pl.Float64, "cash_basis": pl.String,
}
BUDGET_GAP_SCHEMA = {
    "family": pl.String, "month": pl.Date, "plan_revenue": pl.Float64, "budget_revenue": pl.Float64, "gap": pl.Float64,
}


# The grid's row of one scenario (`_summary`): typed here, so that a measure no scenario has (no peak month,
# no budget) is still a date or a number in the table, never a column of type NULL.
SUMMARY_SCHEMA = {
    "description": pl.String,
    **dict.fromkeys(("demand_units", "fulfilled_units", "service_level", "revenue", "gross_margin", "lost_revenue",
                     "ending_inventory_units", "ending_inventory_value", "excess_value", "obsolete_value",
                     "planned_order_value", "po_spend", "peak_cash_need"), pl.Float64),
    "peak_cash_month": pl.Date,
    "peak_inventory_cash_need": pl.Float64, "peak_capacity_use": pl.Float64, "overloaded_supplier_months": pl.Int64,
    "budget_revenue": pl.Float64, "budget_gap": pl.Float64,
    **{f"skus_{name}": pl.Int64 for name in STATUSES},
    **dict.fromkeys(("collections", "collections_after_horizon", "opex", "other_payables", "opening_cash",
                     "credit_line", "lowest_cash_balance"), pl.Float64),
    "lowest_cash_month": pl.Date, "funding_need": pl.Float64, "runway_months": pl.Int64, "cash_basis": pl.String,
}
# Every table a scenario run gives, by name (the tables of schema `sop` the scenario stage writes, with
# `cycle` and `scenario` before these columns).
RESULT_SCHEMAS = {
    "inventory_projection": PROJECTION_SCHEMA, "planned_orders": PLANNED_ORDERS_SCHEMA,
    "supply_gaps": SUPPLY_GAPS_SCHEMA, "capacity_load": CAPACITY_SCHEMA, "sku_status": SKU_STATUS_SCHEMA,
    "exceptions": EXCEPTIONS_SCHEMA, "cash_plan": CASH_PLAN_SCHEMA, "budget_gap": BUDGET_GAP_SCHEMA,
    "scenario_summary": SUMMARY_SCHEMA,
}


def summary_frame(scenario: Scenario, summary: dict[str, object]) -> pl.DataFrame:
    """The scenario's grid row (`ScenarioResult.summary`) as a one-row frame of SUMMARY_SCHEMA."""
    row = {"description": scenario.description, **summary}
    if set(row) != set(SUMMARY_SCHEMA):
        raise ValueError(f"the grid row and SUMMARY_SCHEMA differ: {sorted(set(row) ^ set(SUMMARY_SCHEMA))}")
    return pl.DataFrame([row], schema=SUMMARY_SCHEMA)


def run_scenario(inputs: SupplyInputs, scenario: Scenario) -> ScenarioResult:
    """The supply review and the cash plan of one scenario, and its row of the grid."""
    inputs = at_net_prices(inputs)
    review = review_supply(inputs, scenario)
    cash, gap, cash_summary = scenario_money(inputs, scenario, review.skus, review.inventory_projection,
                                             review.planned_orders)
    summary = _summary(review.inventory_projection, review.planned_orders, review.sku_status, review.capacity_load,
                       cash, cash_summary)
    return ScenarioResult(
        inventory_projection=review.inventory_projection, planned_orders=review.planned_orders,
        supply_gaps=review.supply_gaps, capacity_load=review.capacity_load, sku_status=review.sku_status,
        exceptions=review.exceptions, cash_plan=cash, budget_gap=gap, summary=summary,
    )


def _given(frame: pl.DataFrame | None) -> bool:
    return frame is not None and frame.height > 0


def at_net_prices(inputs: SupplyInputs) -> SupplyInputs:
    """The inputs with each product's list price replaced by its realised net price (finance.cash.net_prices),
    so that revenue, lost revenue and revenue at risk are what the brand is paid, not its list price; without
    a sales history, at list price."""
    if not _given(inputs.sales_history):
        return inputs
    prices = net_prices(inputs.products, inputs.sales_history).rename({"unit_price": "net_price"})
    products = inputs.products.join(prices, on="sku", how="left", maintain_order="left").with_columns(
        pl.col("net_price").alias("unit_price")).drop("net_price")
    return replace(inputs, products=products)


def _po_orders(inputs: SupplyInputs, scenario: Scenario, skus: Sequence[Sku], orders: pl.DataFrame) -> pl.DataFrame:
    """Every order to pay for: planned orders, and the open PO lines (deposit already paid: release 0)."""
    reviewed = {s.sku: s.supplier for s in skus}
    rows = [
        (sku, reviewed[sku], 0, max(month_index(inputs.cycle, expected), 1) + scenario.delay_for(reviewed[sku]),
         float(units), float(value) / float(units))
        for sku, expected, units, value in canonical(inputs.open_supply.select(
            "sku", "expected_month", "open_units", "open_value")).iter_rows()
        if sku in reviewed and units and units > 0
    ]
    rows += [
        (sku, supplier, month_index(inputs.cycle, release), month_index(inputs.cycle, receipt), quantity, cost)
        for sku, supplier, release, receipt, quantity, cost in orders.select(
            "sku", "supplier", "release_month", "receipt_month", "quantity", "unit_cost").iter_rows()
    ]
    schema = {"sku": pl.String, "supplier": pl.String, "release_month": pl.Int64, "receipt_month": pl.Int64,
              "quantity": pl.Float64, "unit_cost": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def company_budget(budget: pl.DataFrame) -> pl.DataFrame:
    """`month, budget_revenue` of the company: the total row where the budget has one (empty family),
    else the sum of its family rows; a month with neither has no row."""
    is_total = pl.col("family").is_null() | (pl.col("family") == "")
    totals = budget.filter(is_total).group_by("month").agg(pl.col("revenue_target").sort().sum().alias("total"))
    families = budget.filter(~is_total).group_by("month").agg(
        pl.col("revenue_target").sort().sum().alias("families")
    )
    return (
        totals.join(families, on="month", how="full", coalesce=True)
        .select("month", pl.coalesce("total", "families").cast(pl.Float64).alias("budget_revenue"))
        .sort("month")
    )


@dataclass(frozen=True)
class CashPosition:
    as_of: date
    opening_cash: float
    credit_line: float


def opening_position(cash_position: pl.DataFrame | None, cycle: date) -> CashPosition | None:
    """The latest cash position dated on or before the cycle's first day; None when there is none."""
    if not _given(cash_position):
        return None
    rows = cash_position.filter(pl.col("as_of") <= cycle).sort("as_of")
    if rows.is_empty():
        return None
    as_of, opening, credit = rows.select("as_of", "opening_cash", "credit_line").row(-1)
    return CashPosition(as_of, float(opening), float(credit or 0.0))


def cash_basis(position: CashPosition | None, terms: bool, opex: bool, payables: bool) -> str:
    """What the cash plan of a cycle includes and leaves out, in words (module docstring)."""
    parts = [
        f"opening cash as of {position.as_of.isoformat()}, credit line {position.credit_line:,.0f}" if position
        else "no cash_position: balances, funding need and runway left out (cash_need counts from 0)",
        "collections under channel payment terms, receivables included" if terms
        else "no payment_terms: revenue counted as collected when earned",
        "opex included" if opex else "no opex: operating expenses left out",
        "payables included" if payables else "no payables: other payables left out",
    ]
    return "; ".join(parts)


def _dated_amounts(frame: pl.DataFrame | None, date_column: str, alias: str, inputs: SupplyInputs,
                   overdue_in_first: bool = False) -> pl.DataFrame:
    """`month, <alias>` for months 1..horizon: `amount` of a dated frame summed per horizon month (a date
    before month 1 is dropped, or paid in month 1 when it is overdue; one after the horizon is outside it)."""
    rows = []
    if _given(frame):
        for day, amount in frame.select(date_column, "amount").iter_rows():
            index = month_index(inputs.cycle, day)
            rows.append((max(index, 1) if overdue_in_first else index, float(amount or 0.0)))
    frame = pl.DataFrame(rows, schema={"month": pl.Int64, alias: pl.Float64}, orient="row")
    return monthly_amounts(frame.filter(pl.col("month") >= 1), alias, inputs.horizon)


def scenario_terms(terms: pl.DataFrame, scenario: Scenario) -> pl.DataFrame:
    """The customer terms the scenario's own sales are collected under: the landed ones, with the scenario's
    per-channel `collection_days` in their place (a channel the file does not name is added)."""
    if not scenario.collection_days:
        return terms
    override = pl.DataFrame(sorted(scenario.collection_days.items()), schema={"channel": pl.String,
                                                                            "collection_days": pl.Int64},
                            orient="row")
    kept = terms.select("channel", pl.col("collection_days").cast(pl.Int64)).join(override, on="channel", how="anti")
    return pl.concat([kept, override]).sort("channel")


def scenario_opex(inputs: SupplyInputs, scenario: Scenario, revenue: float) -> pl.DataFrame:
    """`month, opex` for months 1..horizon: the operating expenses of `opex/` times the scenario's
    `opex_multiplier`, plus its launch spend (`launch_revenue_share` × the scenario's `revenue` over the
    horizon) in equal parts over its first `launch_months` months (a launch month after the horizon is
    outside it)."""
    landed = _dated_amounts(inputs.opex, "month", "opex", inputs).with_columns(
        pl.col("opex") * scenario.opex_multiplier)
    launch = instalments(scenario.launch_revenue_share * revenue, scenario.launch_months, "launch")
    return landed.join(monthly_amounts(launch, "launch", inputs.horizon), on="month").select(
        "month", (pl.col("opex") + pl.col("launch")).alias("opex"))


def scenario_money(
    inputs: SupplyInputs, scenario: Scenario, skus: Sequence[Sku], projection: pl.DataFrame, orders: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, object]]:
    """(cash plan by month, budget gap by family and month, the cash figures of the grid) of the scenario."""
    cycle, horizon = inputs.cycle, inputs.horizon

    def month(index: int) -> date:
        return add_months(cycle, index - 1)

    prices = pl.DataFrame(
        [(s.sku, s.family, s.unit_price, s.unit_cost) for s in skus],
        schema={"sku": pl.String, "family": pl.String, "unit_price": pl.Float64, "unit_cost": pl.Float64},
        orient="row",
    )
    finance = sku_month_finance(projection.select("sku", pl.col("horizon_month").cast(pl.Int64).alias("month"),
                                                  "fulfilled", "shortfall", "closing"), prices)
    terms = inputs.suppliers.select(
        "supplier", pl.col("deposit_share").fill_null(0.0), pl.col("payment_days").fill_null(0).cast(pl.Float64)
    )
    payments = po_spend(_po_orders(inputs, scenario, skus, orders), terms, horizon)

    has_terms = _given(inputs.payment_terms)
    customer_terms = inputs.payment_terms if has_terms else pl.DataFrame(
        schema={"channel": pl.String, "collection_days": pl.Int64})
    history = inputs.sales_history if _given(inputs.sales_history) else pl.DataFrame(
        schema={"month": pl.Date, "sku": pl.String, "channel": pl.String, "net_revenue": pl.Float64})
    receivables = None
    if has_terms:  # without terms, revenue before the cycle was collected when earned: it is in the opening cash
        receivables = history.select(
            pl.col("month").map_elements(lambda d: month_index(cycle, d), return_dtype=pl.Int64), "channel",
            pl.col("net_revenue").fill_null(0.0).alias("revenue"),
        ).filter(pl.col("month") <= 0)
    collected = collections(finance.select("sku", "month", "revenue"), channel_mix(history),
                            scenario_terms(customer_terms, scenario), receivables, receivable_terms=customer_terms)
    position = opening_position(inputs.cash_position, cycle)
    credit = position.credit_line if position else None
    flows = (
        monthly_amounts(collected, "collections", horizon)
        .join(monthly_amounts(payments, "po_payments", horizon), on="month")
        .join(scenario_opex(inputs, scenario, float(finance["revenue"].sort().sum())), on="month")
        .join(_dated_amounts(inputs.payables, "due_date", "other_payables", inputs, overdue_in_first=True), on="month")
    )
    balance = cash_balance(flows, position.opening_cash if position else None).cast(BALANCE_SCHEMA)
    low = lowest_balance(balance)
    basis = cash_basis(position, has_terms, _given(inputs.opex), _given(inputs.payables))

    monthly = finance.group_by("month").agg(
        pl.col("revenue", "cogs", "gross_margin", "lost_revenue", "inventory_value").sort().sum()
    )
    dated = finance.with_columns(pl.col("month").map_elements(month, return_dtype=pl.Date))
    horizon_months = [month(m) for m in range(1, horizon + 1)]
    budget_rows = inputs.budget.filter(pl.col("month").is_in(horizon_months))
    if budget_rows.is_empty():
        gap = pl.DataFrame(schema=BUDGET_GAP_SCHEMA)
    else:
        gap = budget_gap(dated.select("family", "month", "revenue"), budget_rows.select("month", "family", "revenue_target"))
        gap = gap.select(list(BUDGET_GAP_SCHEMA)).cast(BUDGET_GAP_SCHEMA)
    total_budget = company_budget(budget_rows).join(
        dated.group_by("month").agg(pl.col("revenue").sort().sum()), on="month", how="left"
    ).select("month", "budget_revenue", (pl.col("revenue").fill_null(0.0) - pl.col("budget_revenue")).alias("budget_gap"))
    credit_line = pl.lit(credit, dtype=pl.Float64)
    plan = (
        balance.join(monthly, on="month", how="left")
        .with_columns(pl.col("revenue", "cogs", "gross_margin", "lost_revenue", "inventory_value").fill_null(0.0))
        .with_columns(
            credit_line.alias("credit_line"),
            (-(pl.col("closing_balance") + credit_line)).clip(lower_bound=0.0).alias("funding_need"),
            (pl.col("month") == (low.month if low else 0)).alias("is_lowest_balance"),
            pl.lit(basis).alias("cash_basis"),
        )
        .with_columns(pl.col("month").alias("horizon_month"), pl.col("month").map_elements(month, return_dtype=pl.Date))
        # Months without a budget keep a null budget and gap: no target is not a target of 0.
        .join(total_budget, on="month", how="left")
        .sort("month")  # before the cumulative sum: the joins do not promise the months' order
        # What the purchases cost beyond what sales give back at cost: the stock the plan has to finance,
        # whatever the margin is needed for elsewhere.
        .with_columns((pl.col("po_payments") - pl.col("cogs")).cum_sum().alias("inventory_cash_need"))
    )
    after = collected.filter(pl.col("month") > horizon)["collections"]
    grid = {
        "collections": float(balance["collections"].sort().sum()),
        "collections_after_horizon": float(after.sort().sum()),
        "opex": float(balance["opex"].sort().sum()),
        "other_payables": float(balance["other_payables"].sort().sum()),
        "opening_cash": position.opening_cash if position else None,
        "credit_line": credit,
        "lowest_cash_balance": low.balance if low else None,
        "lowest_cash_month": month(low.month) if low else None,
        "funding_need": funding_need(low.balance if low else None, credit or 0.0),
        "runway_months": runway_months(balance, credit) if position else None,
        "cash_basis": basis,
    }
    return plan.select(list(CASH_PLAN_SCHEMA)).cast(CASH_PLAN_SCHEMA).sort("month"), gap, grid


def _summary(
    projection: pl.DataFrame, orders: pl.DataFrame, status: pl.DataFrame, capacity: pl.DataFrame, cash: pl.DataFrame,
    cash_grid: dict[str, object],
) -> dict[str, object]:
    """The scenario's row of the comparison grid (SPEC §9); its totals add sorted values (module docstring)."""
    demand = float(projection["demand"].sort().sum())
    fulfilled = float(projection["fulfilled"].sort().sum())
    last = projection.filter(pl.col("horizon_month") == pl.col("horizon_month").max())
    peak = cash.sort("cash_need", "month", descending=[True, False]).head(1)
    counts = {name: int((status["status"] == name).sum()) for name in STATUSES}
    budgeted = cash.filter(pl.col("budget_revenue").is_not_null())
    return {
        "demand_units": demand,
        "fulfilled_units": fulfilled,
        "service_level": fulfilled / demand if demand > 0 else None,
        "revenue": float(cash["revenue"].sort().sum()),
        "gross_margin": float(cash["gross_margin"].sort().sum()),
        "lost_revenue": float(cash["lost_revenue"].sort().sum()),
        "ending_inventory_units": float(last["closing"].sort().sum()),
        "ending_inventory_value": float(cash.sort("month")["inventory_value"].tail(1).sum()),
        "excess_value": float(status["excess_value"].sort().sum()),
        "obsolete_value": float(status["obsolete_value"].sort().sum()),
        "planned_order_value": float(orders["order_value"].sort().sum()),
        "po_spend": float(cash["po_payments"].sort().sum()),
        "peak_cash_need": peak_cash_need(cash),
        "peak_cash_month": peak["month"].item() if peak_cash_need(cash) > 0 else None,
        "peak_inventory_cash_need": max(0.0, float(cash["inventory_cash_need"].max() or 0.0)),
        "peak_capacity_use": capacity["utilisation"].max(),
        "overloaded_supplier_months": int(capacity["is_overloaded"].sum()),
        # Over the budgeted months only: a month without a target is not a target of 0.
        "budget_revenue": float(budgeted["budget_revenue"].sort().sum()) if budgeted.height else None,
        "budget_gap": float(budgeted["budget_gap"].sort().sum()) if budgeted.height else None,
        **{f"skus_{name}": n for name, n in counts.items()},
        **cash_grid,
    }


class NoPlanError(ValueError):
    """The cycle has no plan to run the scenarios from."""


def read_scenario_inputs(con: duckdb.DuckDBPyConnection, cycle: date, sop: SopConfig) -> SupplyInputs:
    """The locked plan and the fact base of the cycle, with safety stock from the chosen methods' backtest.

    Every read is ordered: a table built by a GROUP BY or read through a join comes back in no fixed order,
    and the review's float sums must not depend on it (it also sorts before adding: supply.review).
    """
    plan = current_plan(con, cycle)
    if plan.is_empty():
        raise NoPlanError(f"cycle {cycle} has no locked demand plan: materialise demand_plan first")
    products = fetch_frame(con, "SELECT * FROM marts.dim_products ORDER BY sku")
    backtest = fetch_frame(
        con,
        "SELECT b.sku, b.origin, b.lag, b.actual, b.forecast, b.is_stockout FROM sop.forecast_backtest b "
        "SEMI JOIN (SELECT DISTINCT sku, method FROM sop.forecast WHERE cycle = ?) f "
        "ON b.sku = f.sku AND b.method = f.method WHERE b.cycle = ? ORDER BY b.sku, b.origin, b.lag",
        [cycle, cycle],
    )
    inputs = SupplyInputs(
        cycle=cycle,
        horizon=sop.horizon,
        products=products,
        plan=plan.select("sku", "month", "p10", "consensus", "p90"),
        on_hand=fetch_frame(con, "SELECT sku, on_hand FROM marts.fct_inventory_position ORDER BY sku"),
        open_supply=fetch_frame(con, "SELECT sku, expected_month, open_units, open_value FROM marts.fct_open_supply "
                                     "ORDER BY sku, expected_month, open_units, open_value"),
        suppliers=fetch_frame(con, "SELECT supplier, monthly_capacity, deposit_share, payment_days "
                                   "FROM staging.stg_raw__suppliers ORDER BY supplier"),
        budget=fetch_frame(con, "SELECT month, family, revenue_target FROM staging.stg_raw__budget "
                                "ORDER BY month, family NULLS LAST, revenue_target"),
        safety_stock=safety_stock_by_sku(backtest, products, sop.service_levels),
        excess_cover_months=sop.excess_cover_months,
        # Twelve months of revenue by channel: each SKU's channel mix, and the receivables of the cash plan.
        sales_history=fetch_frame(
            con, "SELECT month, sku, channel, units, net_revenue FROM marts.fct_demand_monthly "
            "WHERE month >= ? AND month < ? ORDER BY month, sku, channel", [add_months(cycle, -12), cycle]),
        payment_terms=fetch_frame(con, "SELECT channel, collection_days FROM staging.stg_raw__payment_terms "
                                       "ORDER BY channel"),
        cash_position=fetch_frame(con, "SELECT as_of, opening_cash, credit_line FROM staging.stg_raw__cash_position "
                                       "ORDER BY as_of"),
        opex=fetch_frame(con, "SELECT month, category, amount FROM staging.stg_raw__opex ORDER BY month, category"),
        payables=fetch_frame(con, "SELECT due_date, description, amount FROM staging.stg_raw__payables "
                                  "ORDER BY due_date, description, amount"),
    )
    return inputs
