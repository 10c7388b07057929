from datetime import date

import pytest

from sop_pipeline.cycle import add_months, parse_cycle


@pytest.mark.parametrize("text", ["2026-11", "2026-11-01", " 2026-11 "])
def test_cycle_is_the_first_day_of_its_month(text):
    assert parse_cycle(text) == date(2026, 11, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026-11-15", "11/2026", "2026"])
def test_malformed_cycles_say_the_expected_format(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_cycle(text)


@pytest.mark.parametrize("start,n,expected", [
    (date(2026, 11, 1), 1, date(2026, 12, 1)),
    (date(2026, 11, 1), 2, date(2027, 1, 1)),
    (date(2026, 1, 1), -1, date(2025, 12, 1)),
    (date(2026, 11, 1), -24, date(2024, 11, 1)),
])
def test_add_months_crosses_year_boundaries(start, n, expected):
    assert add_months(start, n) == expected
