"""SKU status over the horizon and the supply exceptions that need a decision (SPEC §7).

One status per SKU, the most urgent that applies: stockout > obsolete_risk > at_risk > excess > healthy.
Stockouts have one definition, `MonthPlan.is_stockout` (sop_pipeline.supply.projection); every exception
carries a severity in money. Pure Python, no Dagster. Design notes: docs/supply-rules.md, *SKU status and
exceptions*.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date

import polars as pl

from sop_pipeline.ingest.contract import EXCEPTION_TYPES  # noqa: F401 - defined with the decision log's contract
from sop_pipeline.supply.capacity import Unplaced
from sop_pipeline.supply.projection import BELOW_SAFETY_STOCK, SHORTFALL, TOLERANCE, MonthPlan, recovery_month

DEFAULT_EXCESS_COVER_MONTHS = 6.0

STOCKOUT, OBSOLETE_RISK, AT_RISK, EXCESS, HEALTHY = "stockout", "obsolete_risk", "at_risk", "excess", "healthy"
STATUSES = (STOCKOUT, OBSOLETE_RISK, AT_RISK, EXCESS, HEALTHY)  # in precedence order

SUGGESTED_ACTIONS = {
    "stockout": "release or increase the planned order now",
    "below_safety_stock": "expedite PO or release order now",
    "excess": "reduce next order / promote",
    "obsolete_risk": "liquidate or return to supplier",
    "capacity_overload": "pull production earlier / second source",
}

# A stockout that starts before an order released now can arrive: only open POs can still help.
LATE_STOCKOUT_ACTION = "expedite open POs or release an order now (an order released now arrives in month {arrival})"

_EPSILON = TOLERANCE


def last_selling_month(cycle: date, status: str, discontinue_date: date | None, horizon: int) -> int | None:
    """Horizon month holding the SKU's last sale: None when it sells beyond the horizon, 0 when it stopped
    before the cycle (a `discontinued` SKU without a date is taken as already stopped)."""
    if discontinue_date is not None:
        month = (discontinue_date.year - cycle.year) * 12 + discontinue_date.month - cycle.month + 1
        return None if month > horizon else max(month, 0)
    return 0 if status == "discontinued" else None


def forward_demand(plans: Sequence[MonthPlan]) -> list[float]:
    """Mean monthly demand after each month (the last month: the mean of the whole horizon)."""
    demand = [p.demand for p in plans]
    whole = sum(demand) / len(demand) if demand else 0.0
    return [sum(demand[i + 1:]) / len(demand[i + 1:]) if i + 1 < len(demand) else whole for i in range(len(demand))]


def cover_months(plans: Sequence[MonthPlan]) -> list[float]:
    """Months of forward demand each closing stock covers (infinite when stock remains and no demand does)."""
    covers = []
    for plan, ahead in zip(plans, forward_demand(plans), strict=True):
        if ahead > 0:
            covers.append(plan.closing / ahead)
        else:
            covers.append(math.inf if plan.closing > _EPSILON else 0.0)
    return covers


def excess_units(plans: Sequence[MonthPlan], excess_cover_months: float = DEFAULT_EXCESS_COVER_MONTHS) -> float:
    """The largest stock above N months of forward demand over the horizon."""
    excess = [p.closing - excess_cover_months * ahead for p, ahead in zip(plans, forward_demand(plans), strict=True)]
    return max([0.0, *excess])


def stock_after_last_sale(plans: Sequence[MonthPlan], last_month: int | None) -> float:
    """Units left once the SKU has stopped selling (0 when it sells beyond the horizon)."""
    if last_month is None or not plans:
        return 0.0
    if last_month == 0:
        return plans[0].opening
    return plans[min(last_month, len(plans)) - 1].closing


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


def sku_status(
    plans: Sequence[MonthPlan],
    last_month: int | None = None,
    excess_cover_months: float = DEFAULT_EXCESS_COVER_MONTHS,
) -> str:
    """The most urgent status of one SKU's projection (precedence in the module docstring)."""
    if any(p.is_stockout for p in plans):
        return STOCKOUT
    if stock_after_last_sale(plans, last_month) > _EPSILON:
        return OBSOLETE_RISK
    if any(p.is_below_safety_stock for p in plans):
        return AT_RISK
    if excess_units(plans, excess_cover_months) > _EPSILON:
        return EXCESS
    return HEALTHY


@dataclass(frozen=True)
class SupplyException:
    sku: str
    supplier: str | None
    exception_type: str
    month: int  # first horizon month concerned
    units: float
    severity: float  # money: revenue at price for missing units, value at cost for surplus units
    suggested_action: str


def sku_exceptions(
    sku: str,
    plans: Sequence[MonthPlan],
    unit_price: float,
    unit_cost: float,
    lead_time_months: int,
    last_month: int | None = None,
    excess_cover_months: float = DEFAULT_EXCESS_COVER_MONTHS,
    supplier: str | None = None,
) -> list[SupplyException]:
    """Every exception of one SKU, at most one per type.

    `stockout` sums the shortfall of every stockout month (the SKU's lost sales, as in its status), from
    the first of them; when that month comes before an order released now can arrive, the action says so.
    `below_safety_stock` counts the deepest deficit of months that are not stockouts (a deficit persisting
    over months is the same units). `excess` is left out when the SKU is an obsolete risk: that stock is
    already valued as obsolete.
    """
    found: list[SupplyException] = []

    def add(kind: str, months: list[int], units: float, unit_value: float, action: str | None = None) -> None:
        if months and units > _EPSILON:
            found.append(SupplyException(
                sku, supplier, kind, min(months), units, units * unit_value, action or SUGGESTED_ACTIONS[kind]
            ))

    short = [p for p in plans if p.is_stockout]
    add("stockout", [p.month for p in short], sum(p.shortfall for p in short), unit_price,
        stockout_action([p.month for p in short], lead_time_months))
    below = [p for p in plans if p.is_below_safety_stock and not p.is_stockout]
    add("below_safety_stock", [p.month for p in below], max((p.safety_stock - p.closing for p in below), default=0.0),
        unit_price)
    obsolete = stock_after_last_sale(plans, last_month)
    add("obsolete_risk", [max(last_month or 0, 1)], obsolete, unit_cost)
    if obsolete <= _EPSILON:
        aheads = forward_demand(plans)
        surplus = [
            p.month for p, ahead in zip(plans, aheads, strict=True) if p.closing - excess_cover_months * ahead > 0
        ]
        add("excess", surplus, excess_units(plans, excess_cover_months), unit_cost)
    return found


def stockout_action(months: Sequence[int], lead_time_months: int) -> str:
    """What to do about stockouts in `months`: expedite when the first comes before an order released now
    can arrive, else release or increase the planned order."""
    arrival = recovery_month(lead_time_months)
    if months and min(months) < arrival:
        return LATE_STOCKOUT_ACTION.format(arrival=arrival)
    return SUGGESTED_ACTIONS["stockout"]


def capacity_exceptions(
    supplier: str, unplaced: Iterable[Unplaced], unit_price: Mapping[str, float]
) -> list[SupplyException]:
    """One exception per SKU and month whose units exceed the supplier's capacity even after levelling,
    valued at price: those units will not be there to sell."""
    return [
        SupplyException(
            u.sku, supplier, "capacity_overload", u.month, u.quantity, u.quantity * unit_price[u.sku],
            SUGGESTED_ACTIONS["capacity_overload"],
        )
        for u in unplaced
    ]


EXCEPTION_SCHEMA = {
    "sku": pl.String,
    "supplier": pl.String,
    "exception_type": pl.String,
    "month": pl.Int64,
    "units": pl.Float64,
    "severity": pl.Float64,
    "suggested_action": pl.String,
}


def exceptions_frame(items: Iterable[SupplyException]) -> pl.DataFrame:
    """One row per exception, most severe first (ties by SKU, type and month so the order is stable)."""
    frame = pl.DataFrame([asdict(e) for e in items], schema=EXCEPTION_SCHEMA)
    return frame.sort(["severity", "sku", "exception_type", "month"], descending=[True, False, False, False])


def stockout_disagreements(
    sku_status: pl.DataFrame, exceptions: pl.DataFrame, supply_gaps: pl.DataFrame, projection: pl.DataFrame
) -> list[str]:
    """Where the published tables disagree on what a stockout is; [] when they agree. Per scenario (and
    cycle, when the frames carry those columns), the invariant of the module docstring, in table terms:

    1. status `stockout` ⇔ a `stockout` exception ⇔ sku_status.shortfall > 0 ⇔ a projection month with
       shortfall > TOLERANCE (the same SKUs, in every direction);
    2. the supply gaps are the projection's `is_supply_gap` months, and those with gap_type `shortfall` are
       exactly its gap months with shortfall > TOLERANCE, so every shortfall gap is a stockout SKU and a
       `below_safety_stock` gap never is one by that month;
    3. no exception has a type outside EXCEPTION_TYPES (an old `supply_gap` type would be a stockout under
       another name).
    """
    keys = [c for c in ("cycle", "scenario") if c in sku_status.columns]
    short = pl.col("shortfall") > TOLERANCE

    def skus(frame: pl.DataFrame, condition: pl.Expr) -> pl.DataFrame:
        return frame.filter(condition).select(*keys, "sku").unique()

    def months(frame: pl.DataFrame, condition: pl.Expr) -> pl.DataFrame:
        return frame.filter(condition).select(*keys, "sku", "month").unique()

    problems = []

    def compare(left_name: str, left: pl.DataFrame, right_name: str, right: pl.DataFrame) -> None:
        for a, b, a_name, b_name in ((left, right, left_name, right_name), (right, left, right_name, left_name)):
            missing = a.join(b, on=a.columns, how="anti", nulls_equal=True).sort(a.columns)
            if missing.height:
                first = ", ".join(str(v) for v in missing.row(0))
                problems.append(f"{missing.height} in {a_name} but not in {b_name} (first: {first})")

    stockouts = skus(sku_status, pl.col("status") == STOCKOUT)
    compare("status stockout", stockouts, "stockout exceptions", skus(exceptions, pl.col("exception_type") == STOCKOUT))
    compare("status stockout", stockouts, "sku_status shortfall > 0", skus(sku_status, pl.col("shortfall") > 0))
    compare("status stockout", stockouts, "projection shortfall", skus(projection, short))
    gap_type = pl.col("gap_type")
    compare("supply_gaps", months(supply_gaps, pl.lit(True)), "projection supply-gap months",
            months(projection, pl.col("is_supply_gap")))
    compare("shortfall gaps", months(supply_gaps, gap_type == SHORTFALL), "projection short supply-gap months",
            months(projection, pl.col("is_supply_gap") & short))
    labelled = pl.when(pl.col("shortfall_units") > TOLERANCE).then(pl.lit(SHORTFALL)).otherwise(pl.lit(BELOW_SAFETY_STOCK))
    mislabelled = supply_gaps.filter(gap_type.is_null() | (gap_type != labelled))
    if mislabelled.height:
        problems.append(f"{mislabelled.height} supply gaps whose gap_type does not follow their shortfall_units")
    unknown = sorted(set(exceptions["exception_type"].unique()) - set(EXCEPTION_TYPES))
    if unknown:
        problems.append(f"exception types outside {EXCEPTION_TYPES}: {unknown}")
    return problems
