from datetime import date

import polars as pl
import pytest

from sop_pipeline.forecast.candidates import CLASSICAL_METHODS, forecast_candidates
from sop_pipeline.cycle import add_months

ORIGIN = date(2025, 1, 1)


def _history(sku: str, units: list[float], stockout: list[bool] | None = None) -> pl.DataFrame:
    start = add_months(ORIGIN, -len(units))
    return pl.DataFrame(
        {
            "sku": [sku] * len(units),
            "month": [add_months(start, i) for i in range(len(units))],
            "units": units,
            "is_stockout": stockout or [False] * len(units),
        }
    )


def _value(out: pl.DataFrame, sku: str, method: str, month: date) -> float:
    return out.filter(sku=sku, method=method, month=month)["forecast"].item()


@pytest.fixture(scope="module")
def two_year_series() -> pl.DataFrame:
    # Two identical years: 1..12 units in January..December.
    return _history("LONG", [float(m) for m in range(1, 13)] * 2)


def test_every_sku_gets_every_method_for_every_month_of_the_horizon(two_year_series):
    out = forecast_candidates(pl.concat([two_year_series, _history("SHORT", [4.0, 6.0])]), ORIGIN, 3)
    assert out.columns == ["sku", "month", "method", "forecast"]
    assert out.height == 2 * len(CLASSICAL_METHODS) * 3
    assert sorted(out["month"].unique().to_list()) == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert (out["forecast"] >= 0).all()


def test_baselines_follow_their_textbook_formula(two_year_series):
    out = forecast_candidates(two_year_series, ORIGIN, 2)
    assert _value(out, "LONG", "naive", date(2025, 2, 1)) == 12.0
    assert _value(out, "LONG", "seasonal_naive", date(2025, 2, 1)) == 2.0
    assert _value(out, "LONG", "moving_average", ORIGIN) == pytest.approx((10 + 11 + 12) / 3)


def test_short_series_fall_back_to_their_mean_where_a_method_needs_more_history():
    out = forecast_candidates(_history("SHORT", [4.0, 6.0]), ORIGIN, 1)
    assert _value(out, "SHORT", "seasonal_naive", ORIGIN) == 5.0
    assert _value(out, "SHORT", "moving_average", ORIGIN) == 5.0
    assert _value(out, "SHORT", "naive", ORIGIN) == 6.0


def test_a_stockout_month_is_replaced_by_its_neighbours_before_fitting():
    # The last month sold 1 unit because the shelf was empty; its neighbours sold 10.
    out = forecast_candidates(_history("S", [10.0, 10.0, 1.0], [False, False, True]), ORIGIN, 1)
    assert _value(out, "S", "naive", ORIGIN) == 10.0


def test_months_on_or_after_the_origin_are_ignored(two_year_series):
    spike = pl.DataFrame({"sku": ["LONG"], "month": [ORIGIN], "units": [1000.0], "is_stockout": [False]})
    assert forecast_candidates(pl.concat([two_year_series, spike]), ORIGIN, 2).equals(
        forecast_candidates(two_year_series, ORIGIN, 2)
    )
