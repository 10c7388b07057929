"""The demo's calendar: the history months as integer days since 1970-01-01, turned into dates only when the
frames are written. Draws nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

NO_END = int(np.datetime64("9999-12-31", "D").astype(np.int64))  # end day of SKUs still selling
HOLIDAY_MONTHS = (9, 10, 11)  # October to December, 0 = January


@dataclass(frozen=True)
class Calendar:
    """The history months, as integer days since 1970-01-01."""

    cycle_day: int
    cycle_month: int  # months since 1970-01
    month_start: np.ndarray  # (M,)
    month_days: np.ndarray  # (M,)
    month_of_year: np.ndarray  # (M,), 0 = January

    @property
    def months(self) -> int:
        return len(self.month_start)

    @property
    def month_end(self) -> np.ndarray:
        return self.month_start + self.month_days - 1

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """History month index of each day (negative before the history, >= M from the cycle on)."""
        months = np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return months - (self.cycle_month - self.months)


def month_bounds(month_numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First day and length of each month (months since 1970-01), as integer days."""
    months = np.asarray(month_numbers, dtype=np.int64).astype("datetime64[M]")
    start = months.astype("datetime64[D]").astype(np.int64)
    following = (months + 1).astype("datetime64[D]").astype(np.int64)
    return start, following - start


def history_calendar(cycle: date, months: int) -> Calendar:
    cycle_month = int(np.datetime64(cycle, "M").astype(np.int64))
    numbers = np.arange(cycle_month - months, cycle_month)
    start, days = month_bounds(numbers)
    return Calendar(int(np.datetime64(cycle, "D").astype(np.int64)), cycle_month, start, days, numbers % 12)


def as_dates(days: np.ndarray) -> np.ndarray:
    """Integer days to dates; NO_END becomes an empty cell."""
    days = np.asarray(days, dtype=np.int64)
    return np.where(days == NO_END, np.datetime64("NaT"), days.astype("datetime64[D]"))
