"""Numbers formatted for people, in one place: every figure of the pack goes through these.

Units are whole numbers with thousands separators, money carries the currency of the inputs
(`SOP_CURRENCY`), shares are percentages, and a value that could not be computed reads "n/a", never 0.
"""

from __future__ import annotations

import math

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
MISSING = "n/a"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def units(value, signed: bool = False) -> str:
    """`12,345` (or `+12,345` when `signed`)."""
    if _missing(value):
        return MISSING
    return format(round(value), "+,d" if signed else ",d")


def money(value, currency: str = "EUR", signed: bool = False, compact: bool = False) -> str:
    """`€12,345`, `-€1,200`, `+€3,400` when `signed`; `€1.2M` / `€340k` when `compact`."""
    if _missing(value):
        return MISSING
    symbol = SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    size = abs(value)
    if compact and size >= 999_500:
        body = f"{size / 1e6:,.1f}M"
    elif compact and size >= 10_000:
        body = f"{size / 1e3:,.0f}k"
    else:
        body = f"{size:,.0f}"
    return f"{sign}{symbol}{body}"


def pct(value, digits: int = 1, signed: bool = False) -> str:
    """A share as `12.3%` (`+1.2%` when `signed`)."""
    if _missing(value):
        return MISSING
    return format(value, f"{'+' if signed else ''}.{digits}%")


def points(value, digits: int = 1) -> str:
    """A difference of two percentages, in percentage points: `+2.4 pts`."""
    if _missing(value):
        return MISSING
    return f"{value * 100:+.{digits}f} pts"


def number(value, digits: int = 1) -> str:
    """A plain quantity such as turns or days: `4.2`."""
    if _missing(value):
        return MISSING
    return f"{value:,.{digits}f}"


def month(value) -> str:
    """`Nov 2026` for a date; n/a for none."""
    if _missing(value):
        return MISSING
    return value.strftime("%b %Y")


def change(new, old) -> float | None:
    """Relative change new / old − 1, or None when it is undefined."""
    if _missing(new) or _missing(old) or not old:
        return None
    return new / old - 1
