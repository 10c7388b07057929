"""The cash inputs, from the `cash` stream: customer payment terms by channel, the cash position, monthly opex
and quarterly VAT payables, scaled to last year's revenue."""

from __future__ import annotations

import numpy as np
import polars as pl

from sop_pipeline.demo.dates import HOLIDAY_MONTHS, Calendar, month_bounds
from sop_pipeline.ingest.contract import CASH_POSITION, OPEX, PAYABLES, PAYMENT_TERMS

# The brand's cash, in months of last year's average net revenue: the cash is at its low before the holiday peak,
# the Q4 stock paid for, and the bank grants a small overdraft. Opex takes a little over half of net revenue and the
# gross margin at net prices is about 60 %: the brand about breaks even, so a cautious year that holds its spend back
# stays within the overdraft, while the packaged ambitious scenario, which pays for its launch, a bigger team and
# new retail accounts on 90 days before its sales come in, needs funding beyond it (docs/supply-and-finance.md).
COLLECTION_DAYS = {"DTC": (0,), "Marketplace": (14, 21), "Wholesale": (45, 60)}  # choices per channel
OPENING_CASH_MONTHS, CREDIT_LINE_MONTHS = (0.20, 0.30), 0.20
OPEX_SHARES = {"Payroll": 0.26, "Rent": 0.06, "Marketing": 0.12, "Logistics": 0.08}  # of the average month's revenue
OPEX_MONTHS_BEFORE, OPEX_MONTHS = 1, 25  # from the month before the cycle: the previous cycle's horizon too
VAT_SHARE, CASH_STEP = 0.05, 100  # quarterly VAT settlement (share of the quarter's revenue); amounts rounded


def draw_cash(rng: np.random.Generator, cal: Calendar, family_revenue: np.ndarray) -> dict[str, pl.DataFrame]:
    """Customer terms by channel, the cash at the last two month-ends with a credit line, monthly opex (marketing
    up in the holiday months) and quarterly VAT payments, scaled to last year's revenue."""
    monthly = float(family_revenue[:, -12:].sum()) / 12

    def step(x: np.ndarray | float) -> np.ndarray:
        return np.round(np.asarray(x, dtype=np.float64) / CASH_STEP) * CASH_STEP

    terms = pl.DataFrame({"channel": list(COLLECTION_DAYS),
                          "collection_days": [int(rng.choice(days)) for days in COLLECTION_DAYS.values()]})
    starts, lengths = month_bounds(cal.cycle_month - np.arange(2, 0, -1))
    opening = step(monthly * rng.uniform(*OPENING_CASH_MONTHS, 2))
    position = pl.DataFrame({"as_of": (starts + lengths - 1).astype("datetime64[D]"), "opening_cash": opening,
                             "credit_line": step(np.full(2, monthly * CREDIT_LINE_MONTHS))})
    months = cal.cycle_month - OPEX_MONTHS_BEFORE + np.arange(OPEX_MONTHS)
    holiday = np.isin(months % 12, HOLIDAY_MONTHS)
    categories, shares = list(OPEX_SHARES), np.array(list(OPEX_SHARES.values()))
    amount = monthly * shares[None, :] * rng.uniform(0.95, 1.05, (len(months), len(shares)))
    amount[:, categories.index("Marketing")] *= np.where(holiday, 1.6, 0.8)
    c, m = np.meshgrid(np.arange(len(categories)), np.arange(len(months)))  # month-major rows
    opex = pl.DataFrame({"month": month_bounds(months)[0][m.ravel()].astype("datetime64[D]"),
                         "category": np.array(categories)[c.ravel()], "amount": step(amount[m.ravel(), c.ravel()])})
    # January, April, July, October: the last quarter's VAT, due on the 20th; what fell due before the cycle is paid.
    quarters = months[(months % 3 == 0) & (months >= cal.cycle_month)]
    payables = pl.DataFrame({
        "due_date": (month_bounds(quarters)[0] + 19).astype("datetime64[D]"),
        "description": [f"VAT Q{(int(q) % 12) // 3 or 4}" for q in quarters],
        "amount": step(3 * monthly * VAT_SHARE * rng.uniform(0.9, 1.1, len(quarters))),
    })
    return {PAYMENT_TERMS.name: terms, CASH_POSITION.name: position, OPEX.name: opex, PAYABLES.name: payables}
