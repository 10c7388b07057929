"""Safety stock from backtest errors over the lead time, computed by hand on tiny cases, then as properties."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.supply.safety_stock import (
    empirical_quantile,
    lead_time_errors,
    safety_stock,
    safety_stock_by_sku,
    service_level_for,
)


@pytest.mark.parametrize("abc_class,expected", [("A", 0.98), ("B", 0.95), ("C", 0.90), (None, 0.90), ("?", 0.90)])
def test_service_level_follows_the_abc_class_and_defaults_to_class_c(abc_class, expected):
    assert service_level_for(abc_class) == expected


def test_configured_service_levels_replace_the_defaults():
    assert service_level_for("A", {"A": 0.99, "B": 0.9, "C": 0.8}) == 0.99


def test_safety_stock_is_the_service_level_quantile_of_the_lead_time_errors():
    # sorted [-10, 0, 5, 10, 20], position 0.8 × 4 = 3.2 → 10 + 0.2 × (20 − 10) = 12
    assert safety_stock([20, -10, 5, 0, 10], 0.8, min_errors=5) == pytest.approx(12.0)


def test_a_forecast_that_mostly_over_forecasts_needs_no_buffer():
    # position 0.9 × 4 = 3.6 → −2 + 0.6 × 1 = −1.4, floored at 0
    assert safety_stock([-5, -4, -3, -2, -1], 0.9, min_errors=5) == 0.0


def test_few_lead_time_errors_fall_back_to_z_sigma():
    # σ of [10, −10] = √((100 + 100) / 1) = 14.1421; z(0.95) = 1.644854 → 23.262
    assert safety_stock([10, -10], 0.95) == pytest.approx(23.262, abs=1e-3)


def test_without_lead_time_errors_monthly_sigma_is_scaled_by_root_lead_time():
    # σ of [2, −2, 4, −4] = √(40 / 3) = 3.6515; × √4 = 7.3030; z(0.90) = 1.281552 → 9.3593
    assert safety_stock([], 0.90, monthly_errors=[2, -2, 4, -4], lead_time_months=4) == pytest.approx(9.3593, abs=1e-3)


def test_no_evidence_gives_no_buffer():
    assert safety_stock([], 0.98) == 0.0
    assert safety_stock([5], 0.98, monthly_errors=[3]) == 0.0


def test_a_service_level_outside_zero_one_is_refused():
    with pytest.raises(ValueError):
        safety_stock([1, 2, 3], 1.0)


def _backtest(rows):
    return pl.DataFrame(
        rows, schema=["sku", "origin", "lag", "actual", "forecast", "is_stockout"], orient="row"
    )


def test_lead_time_errors_sum_whole_windows_and_drop_censored_or_incomplete_ones():
    o1, o2, o3 = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    backtest = _backtest([
        ("a", o1, 1, 10.0, 8.0, False), ("a", o1, 2, 12.0, 15.0, False), ("a", o1, 3, 99.0, 0.0, False),
        ("a", o2, 1, 10.0, 10.0, False),  # lag 2 not scored yet: incomplete window
        ("a", o3, 1, 0.0, 10.0, True), ("a", o3, 2, 10.0, 10.0, False),  # stockout inside the window
        ("b", o1, 1, 7.0, 4.0, False), ("b", o1, 2, 50.0, 0.0, False),  # lead time 0 → window of one month
    ])
    leads = pl.DataFrame({"sku": ["a", "b"], "lead_time_months": [2, 0]})
    result = lead_time_errors(backtest, leads)
    # a/o1: (10 − 8) + (12 − 15) = −1; b/o1: 7 − 4 = 3
    assert result.rows() == [("a", o1, -1.0), ("b", o1, 3.0)]


def test_a_window_with_an_unknown_actual_is_dropped_not_read_as_zero_sales():
    o1, o2 = date(2026, 1, 1), date(2026, 2, 1)
    backtest = _backtest([
        ("a", o1, 1, 10.0, 8.0, False), ("a", o1, 2, 12.0, 15.0, False),
        ("a", o2, 1, None, 10.0, False), ("a", o2, 2, 10.0, 10.0, False),  # sales of o2's month unknown
    ])
    leads = pl.DataFrame({"sku": ["a"], "lead_time_months": [2]})
    assert lead_time_errors(backtest, leads).rows() == [("a", o1, -1.0)]
    products = pl.DataFrame({"sku": ["a"], "abc_class": ["A"], "lead_time_months": [2]})
    # One window (too few for a σ); the lag-1 errors left for the √L fallback are o1's 2 alone: no buffer.
    assert safety_stock_by_sku(backtest, products)["safety_stock"].to_list() == [0.0]


def test_safety_stock_by_sku_uses_the_class_level_and_the_sku_errors():
    origins = [date(2026, m, 1) for m in (1, 2, 3)]
    backtest = _backtest([
        ("a", o, 1, actual, 10.0, False) for o, actual in zip(origins, [5.0, 10.0, 30.0], strict=True)
    ])
    products = pl.DataFrame({"sku": ["b", "a"], "abc_class": ["C", "A"], "lead_time_months": [1, 1]})
    result = safety_stock_by_sku(backtest, products, min_errors=3)
    # a: errors [−5, 0, 20] at 0.98: position 1.96 → 0 + 0.96 × 20 = 19.2; b has no backtest → 0
    assert result.rows() == [("a", 0.98, 3, pytest.approx(19.2)), ("b", 0.90, 0, 0.0)]


errors = st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(values=errors, low=st.floats(0.01, 0.98), step=st.floats(0.0, 0.01))
def test_the_quantile_lies_within_the_errors_and_grows_with_the_service_level(values, low, step):
    high = low + step
    assert min(values) - 1e-6 <= empirical_quantile(values, low) <= max(values) + 1e-6
    assert empirical_quantile(values, low) <= empirical_quantile(values, high) + 1e-6
    assert safety_stock(values, high) >= 0.0
