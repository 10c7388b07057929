from datetime import date

import polars as pl
import pytest

from sop_pipeline.forecast.metrics import mase_scale, score


def _scored(actual, forecast, scale=None):
    """`score` of one method at one lag over the given rows: the only place the formulas are computed."""
    frame = pl.DataFrame({"method": "m", "lag": 1, "actual": [float(a) for a in actual],
                          "forecast": [float(f) for f in forecast]})
    if scale is not None:
        frame = frame.with_columns(pl.Series("scale", [float(x) for x in scale]))
    return score(frame).row(0, named=True)


def test_wmape_is_total_absolute_error_over_total_actual():
    # |10-8| + |0-3| + |20-20| = 5 over 30.
    assert _scored([10, 0, 20], [8, 3, 20])["wmape"] == pytest.approx(5 / 30)


def test_bias_is_positive_when_forecast_is_too_high():
    assert _scored([10, 0, 20], [8, 3, 20])["bias"] == pytest.approx(1 / 30)
    assert _scored([10], [5])["bias"] == pytest.approx(-0.5)


def test_ratio_metrics_are_undefined_without_demand():
    row = _scored([0, 0], [1, 2])
    assert row["wmape"] is None and row["bias"] is None


def test_mase_divides_mean_absolute_error_by_scale_and_skips_zero_scales():
    assert _scored([10, 20], [12, 14], [4.0, 4.0])["mase"] == pytest.approx((2 + 6) / 2 / 4)
    assert _scored([10, 20], [12, 14], [2.0, 0.0])["mase"] == pytest.approx(1.0)
    assert _scored([10, 20], [12, 14])["mase"] is None  # no scale, no MASE


def test_mase_scale_uses_season_12_with_13_months_and_naive_when_shorter():
    months = [date(2024, 1, 1), *[date(2024, m, 1) for m in range(2, 13)], date(2025, 1, 1)]
    long = pl.DataFrame({"sku": ["L"] * 13, "month": months, "units": [4.0] + [0.0] * 11 + [10.0]})
    short = pl.DataFrame({"sku": ["S"] * 3, "month": months[:3], "units": [1.0, 4.0, 2.0]})
    out = mase_scale(pl.concat([long, short]))
    # Long: one seasonal pair |10 - 4| = 6. Short: naive pairs |4-1|, |2-4| -> 2.5.
    assert out.to_dicts() == [{"sku": "L", "scale": 6.0}, {"sku": "S", "scale": 2.5}]


def test_mase_scale_skips_pairs_touching_a_stockout():
    frame = pl.DataFrame(
        {
            "sku": ["S"] * 3,
            "month": [date(2024, m, 1) for m in (1, 2, 3)],
            "units": [1.0, 4.0, 2.0],
            "is_stockout": [False, False, True],
        }
    )
    assert mase_scale(frame)["scale"].to_list() == [3.0]


def test_score_drops_stockout_months_and_groups_by_lag_and_method():
    frame = pl.DataFrame(
        {
            "family": ["F", "F", "F", "F"],
            "method": ["naive"] * 4,
            "lag": [1, 1, 1, 2],
            "actual": [10.0, 30.0, 1.0, 5.0],
            "forecast": [12.0, 24.0, 50.0, 5.0],
            "is_stockout": [False, False, True, False],
            "scale": [2.0, 4.0, 1.0, 0.0],
        }
    )
    out = score(frame, by=["family"]).to_dicts()
    assert out[0]["lag"] == 1
    assert out[0]["wmape"] == pytest.approx(8 / 40)
    assert out[0]["bias"] == pytest.approx(-4 / 40)
    assert out[0]["mase"] == pytest.approx((2 / 2 + 6 / 4) / 2)
    assert out[0]["n_scored"] == 2
    assert out[1]["wmape"] == 0.0 and out[1]["mase"] is None
