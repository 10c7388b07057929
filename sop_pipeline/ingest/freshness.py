"""Are the actuals complete for a cycle? Sales and a stock count must reach the month before it.

A missing month would be zero-filled as if nothing sold, and a stale count would plan from old
stock: both quietly distort the plan. So actuals that stop before the month preceding the cycle (no
sales line, or no stock count, dated in that month) fail the run before anything is written, unless
the planner says the data is right (`sop run --allow-stale-actuals`, `SopConfig.allow_stale_actuals`):
then the run goes on and the asset checks warn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months


STOCK_CHECK = "stock_count_is_from_the_previous_month"
ALLOW_STALE_FLAG = "--allow-stale-actuals"


@dataclass(frozen=True)
class Freshness:
    check: str
    passed: bool
    latest: date | None  # the latest date before the cycle, or None when there is none
    description: str


def latest_before(frame: pl.DataFrame, column: str, cycle: date) -> date | None:
    dates = frame.filter(pl.col(column) < cycle)[column]
    return dates.max() if dates.len() else None


def _fresh(check: str, what: str, latest: date | None, cycle: date) -> Freshness:
    previous = add_months(cycle, -1)
    passed = latest is not None and latest >= previous
    if passed:
        description = f"{what} reach {latest.isoformat()}, inside the month before the cycle."
    else:
        seen = f"the latest is {latest.isoformat()}" if latest else "there are none"
        description = (
            f"{what} do not reach {previous.strftime('%B %Y')} ({seen}): the cycle {cycle.isoformat()} "
            "plans without that month's actuals."
        )
    return Freshness(check, passed, latest, description)


def actuals_freshness(sales: pl.DataFrame, inventory: pl.DataFrame, cycle: date) -> list[Freshness]:
    """One finding per check: sales lines and a stock count in the month before the cycle. Without any
    stock count the cycle runs in forecast-only mode, and a stale count is no concern."""
    if inventory.filter(pl.col("snapshot_date") < cycle).is_empty():  # what the fact base sees of the counts
        stock = Freshness(STOCK_CHECK, True, None, "No stock counts were delivered: the cycle runs in forecast-only "
                          "mode (no supply review, cash plan or scenarios).")
    else:
        stock = _fresh(STOCK_CHECK, "Stock counts", latest_before(inventory, "snapshot_date", cycle), cycle)
    return [_fresh("sales_reach_the_previous_month", "Sales lines", latest_before(sales, "date", cycle), cycle), stock]


def stale(findings: list[Freshness]) -> list[Freshness]:
    return [f for f in findings if not f.passed]


def stale_actuals_message(findings: list[Freshness], cycle: date) -> str:
    """Why the run stopped, what is stale with its latest date, and how to go on anyway."""
    previous = add_months(cycle, -1).strftime("%B %Y")
    lines = [f"Stale actuals: the cycle {cycle.isoformat()} plans from the actuals of {previous}, the month before "
             "it, and they are missing; nothing was written to the raw tables."]
    lines += [f"  - {f.description}" for f in findings]
    lines.append(f"Deliver that month's exports, or plan on these actuals anyway with `sop run {ALLOW_STALE_FLAG}`.")
    return "\n".join(lines)
