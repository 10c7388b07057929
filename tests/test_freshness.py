from datetime import date

import polars as pl
import pytest

from sop_pipeline.ingest.freshness import actuals_freshness, stale, stale_actuals_message

CYCLE = date(2026, 11, 1)


def _frames(last_sale: str | None, last_count: str | None):
    sales = pl.DataFrame({"date": [date(2026, 9, 3)] + ([date.fromisoformat(last_sale)] if last_sale else [])})
    counts = pl.DataFrame({"snapshot_date": [date.fromisoformat(last_count)] if last_count else []},
                          schema={"snapshot_date": pl.Date})
    return sales, counts


@pytest.mark.parametrize("last_sale,last_count,expected", [
    ("2026-10-31", "2026-10-31", [True, True]),
    ("2026-10-01", "2026-10-15", [True, True]),
    # On or after the cycle start does not count: sales are stale, and a cycle whose only stock counts are
    # later has none it may see, so it runs forecast-only (as on files cut at its start), nothing stale.
    ("2026-11-02", "2026-11-01", [False, True]),
    (None, "2026-09-30", [False, False]),
    (None, "2026-11-05", [False, True]),  # counts exist, none before the cycle: forecast-only
    (None, None, [False, True]),  # no stock counts at all: forecast-only mode, nothing is stale
])
def test_actuals_must_reach_the_month_before_the_cycle(last_sale, last_count, expected):
    findings = actuals_freshness(*_frames(last_sale, last_count), CYCLE)
    assert [f.passed for f in findings] == expected


def test_a_missing_month_is_named_in_the_message():
    sales, counts = _frames(None, "2026-11-05")
    findings = actuals_freshness(sales, counts, CYCLE)
    assert findings[0].latest == date(2026, 9, 3)
    assert "do not reach October 2026 (the latest is 2026-09-03)" in findings[0].description
    # The only count is from after the cycle started: the fact base cannot see it, so no supply review.
    assert findings[1].passed and "forecast-only mode" in findings[1].description


def test_without_any_stock_count_the_message_says_forecast_only():
    finding = actuals_freshness(*_frames("2026-10-31", None), CYCLE)[1]
    assert finding.passed and finding.latest is None
    assert "forecast-only mode" in finding.description


def test_only_failed_checks_are_stale_and_the_message_names_each_with_its_latest_date():
    findings = actuals_freshness(*_frames("2026-09-30", "2026-10-31"), CYCLE)
    assert [f.check for f in stale(findings)] == ["sales_reach_the_previous_month"]
    assert stale_actuals_message(stale(findings), CYCLE).splitlines() == [
        "Stale actuals: the cycle 2026-11-01 plans from the actuals of October 2026, the month before it, and they "
        "are missing; nothing was written to the raw tables.",
        "  - Sales lines do not reach October 2026 (the latest is 2026-09-30): the cycle 2026-11-01 plans without "
        "that month's actuals.",
        "Deliver that month's exports, or plan on these actuals anyway with `sop run --allow-stale-actuals`.",
    ]


def test_forecast_only_actuals_with_sales_in_the_previous_month_are_not_stale():
    assert stale(actuals_freshness(*_frames("2026-10-01", None), CYCLE)) == []
