"""A planning cycle is one month, named by its first day (`2026-11-01`)."""

from __future__ import annotations

import re
from datetime import date

_CYCLE = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")

# Monthly data: a season is a year. Every seasonal model, feature and scale reads it from here.
SEASON_LENGTH = 12


def parse_cycle(text: str) -> date:
    """`2026-11` or `2026-11-01` → date(2026, 11, 1); anything else is an error that says the format."""
    match = _CYCLE.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"cycle must look like YYYY-MM (or YYYY-MM-01), got {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (both first days of a month)."""
    return (end.year - start.year) * 12 + end.month - start.month
