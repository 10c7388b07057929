from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.forecast.quantiles import forecast_quantiles, residual_quantiles

ORIGIN = date(2025, 1, 1)


def _residual_rows(actuals, forecast=10.0, lag=1, segment="X", stockout=False) -> pl.DataFrame:
    n = len(actuals)
    return pl.DataFrame(
        {
            "lag": [lag] * n,
            "segment": [segment] * n,
            "actual": [float(a) for a in actuals],
            "forecast": [forecast] * n,
            "is_stockout": [stockout] * n,
        }
    )


@pytest.fixture(scope="module")
def lag1() -> pl.DataFrame:
    # Relative errors (A - 10) / 10 = -0.5, 0, 0.5, 1, 2; the stockout row (error -1) is left out.
    rows = pl.concat([_residual_rows([5, 10, 15, 20, 30]), _residual_rows([0], stockout=True)])
    return residual_quantiles(rows)


def test_residual_quantiles_are_linear_empirical_quantiles_of_relative_errors(lag1):
    row = lag1.row(0, named=True)
    assert row["n_residuals"] == 5
    # Positions 0.4, 2 and 3.6 of the sorted errors.
    assert (row["q10"], row["q50"], row["q90"]) == pytest.approx((-0.3, 0.5, 1.6))


def test_quantiles_widen_the_point_forecast_and_keep_it_as_the_median(lag1):
    forecast = pl.DataFrame({"sku": ["A", "B"], "month": [ORIGIN, ORIGIN], "forecast": [20.0, 0.0]})
    out = forecast_quantiles(forecast, ORIGIN, lag1)
    a, b = out.to_dicts()
    assert (a["p10"], a["p50"], a["p90"]) == pytest.approx((14.0, 20.0, 52.0))
    # A zero forecast gets a band of at least one unit of scale, never a negative quantile.
    assert (b["p10"], b["p50"], b["p90"]) == pytest.approx((0.0, 0.0, 1.6))


def test_lags_beyond_the_calibrated_ones_use_the_longest_calibrated_lag(lag1):
    forecast = pl.DataFrame({"sku": ["A"], "month": [date(2025, 3, 1)], "forecast": [20.0]})
    out = forecast_quantiles(forecast, ORIGIN, lag1).row(0, named=True)
    assert out["lag"] == 3 and out["p90"] == pytest.approx(52.0)


def test_a_thin_segment_borrows_the_quantiles_of_its_whole_lag():
    rows = pl.concat([_residual_rows([5, 10, 15, 20, 30]), _residual_rows([100], segment="Y")])
    table = residual_quantiles(rows, by=["lag", "segment"], min_residuals=3)
    pooled = residual_quantiles(rows)
    assert table.filter(segment="Y")["q90"].item() == pytest.approx(pooled["q90"].item())
    assert table.filter(segment="X")["q90"].item() == pytest.approx(1.6)


def test_calibration_requires_lag():
    with pytest.raises(ValueError, match="lag"):
        residual_quantiles(_residual_rows([1]), by=["segment"])


@settings(max_examples=60, deadline=None)
@given(
    errors=st.lists(st.tuples(st.integers(1, 3), st.floats(0, 1e4), st.floats(0, 1e4)), min_size=1, max_size=30),
    forecasts=st.lists(st.floats(-50, 1e5, allow_nan=False), min_size=1, max_size=10),
)
def test_quantiles_are_never_negative_and_never_cross(errors, forecasts):
    rows = pl.DataFrame(
        {"lag": [e[0] for e in errors], "actual": [e[1] for e in errors], "forecast": [e[2] for e in errors]},
        schema={"lag": pl.Int32, "actual": pl.Float64, "forecast": pl.Float64},
    )
    table = residual_quantiles(rows, levels=(0.1, 0.25, 0.5, 0.75, 0.9))
    forecast = pl.DataFrame(
        {
            "sku": [f"S{i}" for i in range(len(forecasts))],
            "month": [date(2025, 1 + i % 6, 1) for i in range(len(forecasts))],
            "forecast": forecasts,
        }
    )
    out = forecast_quantiles(forecast, ORIGIN, table, levels=(0.1, 0.25, 0.5, 0.75, 0.9))
    assert out.height == len(forecasts)
    assert (out["p10"] >= 0).all()
    assert (out["p10"] <= out["p25"]).all() and (out["p25"] <= out["p50"]).all()
    assert (out["p50"] <= out["p75"]).all() and (out["p75"] <= out["p90"]).all()
