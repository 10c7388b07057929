"""Projected inventory of one SKU over the horizon, with the planned orders that keep it above safety stock.

Month by month (SPEC §7): opening + receipts (open POs) + planned receipts − fulfilled = closing. The one
definition of a stockout, of below safety stock and of a supply gap lives here, on `MonthPlan`, and every
table reads it from there. Pure Python, no Dagster. Design notes: docs/supply-rules.md, *The projected
inventory*.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

# Units: a shortfall or a deficit smaller than this is float noise from adding fractional demand, not a
# decision for a planner.
TOLERANCE = 1e-9
SHORTFALL, BELOW_SAFETY_STOCK = "shortfall", "below_safety_stock"  # the values of `gap_type`


def round_order_quantity(need: float, moq: int, order_multiple: int) -> int:
    """The smallest quantity that covers `need`, is at least the MOQ and a multiple of the order multiple."""
    if need <= 0:
        return 0
    quantity = max(need, moq)
    return int(math.ceil(quantity / order_multiple - 1e-9) * order_multiple)


def release_month(need_month: int, lead_time_months: int) -> int:
    """Horizon month (1 = the cycle's month) in which an order needed in `need_month` must be released."""
    return need_month - lead_time_months


@dataclass(frozen=True)
class MonthPlan:
    month: int  # 1 = the cycle's month
    opening: float
    receipts: float  # open purchase orders expected this month
    planned_receipts: float  # planned orders arriving this month
    demand: float
    fulfilled: float
    closing: float
    safety_stock: float
    planned_release: int | None  # month the planned order is released, if any
    shortfall: float  # demand that cannot be fulfilled
    gap: bool  # a stockout or below safety stock, and no order released now can arrive in time

    @property
    def is_stockout(self) -> bool:
        """The month's stock cannot cover its demand: the single definition of a stockout (module docstring)."""
        return self.shortfall > TOLERANCE

    @property
    def is_below_safety_stock(self) -> bool:
        """The month closes under its safety stock (a stockout month does too, when it has a buffer)."""
        return self.closing < self.safety_stock - TOLERANCE

    @property
    def gap_type(self) -> str | None:
        """`shortfall` or `below_safety_stock` for a supply gap (a stockout takes precedence), else None."""
        if not self.gap:
            return None
        return SHORTFALL if self.is_stockout else BELOW_SAFETY_STOCK


def project_inventory(
    on_hand: float,
    demand: Sequence[float],
    receipts: Sequence[float],
    safety_stock: Sequence[float],
    lead_time_months: int,
    moq: int,
    order_multiple: int,
    blocked: Collection[int] = (),
) -> list[MonthPlan]:
    """Project one SKU month by month; plan orders only where their release month is not in the past.

    `blocked` holds need months for which no order may be planned (a purchase budget refused it): the
    month is projected without one, and its deficit is carried into the next month's need.
    """
    plans: list[MonthPlan] = []
    opening = float(on_hand)
    for index, (want, incoming, target) in enumerate(zip(demand, receipts, safety_stock, strict=True)):
        month = index + 1
        available = opening + incoming
        release = release_month(month, lead_time_months)
        reachable = release >= 1
        need = target + want - available
        allowed = reachable and month not in blocked
        planned = float(round_order_quantity(need, moq, order_multiple)) if allowed and need > 0 else 0.0
        plans.append(_close_month(month, opening, incoming, planned, want, target, lead_time_months))
        opening = plans[-1].closing
    return plans


def _close_month(
    month: int, opening: float, incoming: float, planned: float, want: float, target: float, lead_time_months: int
) -> MonthPlan:
    """One month of the projection once its receipts are known: fulfil what stock allows, flag a gap when no
    order released now could have arrived."""
    available = opening + incoming + planned
    fulfilled = min(want, available)
    closing = available - fulfilled
    shortfall = want - fulfilled
    plan = MonthPlan(
        month=month,
        opening=opening,
        receipts=incoming,
        planned_receipts=planned,
        demand=want,
        fulfilled=fulfilled,
        closing=closing,
        safety_stock=target,
        planned_release=release_month(month, lead_time_months) if planned > 0 else None,
        shortfall=shortfall,
        gap=False,
    )
    # The gap reads the same two definitions as every table, so a gap is never a stockout by another rule.
    # Copied only when it is one: most months are reachable, and the plan replay projects thousands of them.
    if month < recovery_month(lead_time_months) and (plan.is_stockout or plan.is_below_safety_stock):
        return replace(plan, gap=True)
    return plan


def project_with_receipts(
    on_hand: float,
    demand: Sequence[float],
    receipts: Sequence[float],
    planned_receipts: Sequence[float],
    safety_stock: Sequence[float],
    lead_time_months: int,
) -> list[MonthPlan]:
    """Project one SKU with its planned receipts already decided (after a budget cap or capacity levelling
    moved or cut them): the same identity, no new orders. A month before the recovery month that ends
    short or below safety stock is a gap, as in `project_inventory`."""
    plans: list[MonthPlan] = []
    opening = float(on_hand)
    rows = zip(demand, receipts, planned_receipts, safety_stock, strict=True)
    for index, (want, incoming, planned, target) in enumerate(rows):
        plans.append(_close_month(index + 1, opening, incoming, planned, want, target, lead_time_months))
        opening = plans[-1].closing
    return plans


def recovery_month(lead_time_months: int) -> int:
    """The first horizon month an order released in the cycle's month can arrive."""
    return lead_time_months + 1
