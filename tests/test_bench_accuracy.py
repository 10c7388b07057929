"""The bench scores every step the way the published references were scored (values computed by hand)."""

from datetime import date

import polars as pl
import pytest

from bench.accuracy import score_holdout
from sop_pipeline.cycle import add_months

START = date(2022, 1, 1)


def _data() -> pl.DataFrame:
    rows = []
    for i in range(24):  # two training years; the second is the first plus 2: every seasonal error is 2
        month = add_months(START, i - 24)
        rows.append(("A", month, float(10 + i % 12 + (2 if i >= 12 else 0))))
        rows.append(("B", month, None if i == 5 else 5.0))  # a missing value: B is not scored
    rows += [("A", START, 10.0), ("A", add_months(START, 1), 20.0), ("B", START, 5.0), ("B", add_months(START, 1), 5.0)]
    return pl.DataFrame(rows, schema={"series_id": pl.String, "month": pl.Date, "units": pl.Float64}, orient="row")


def test_holdout_scores_are_per_series_over_complete_series_only():
    forecasts = pl.DataFrame({
        "sku": ["A", "A", "B", "B"], "month": [START, add_months(START, 1)] * 2, "method": "m",
        "forecast": [12.0, 16.0, 100.0, 100.0],
    })
    row = score_holdout(_data(), forecasts, START).row(0, named=True)
    assert row["method"] == "m"
    assert row["mase"] == pytest.approx((2 + 4) / 2 / 2)  # mean |error| 3 over the seasonal-naive MAE 2
    assert row["smape"] == pytest.approx(100 * (2 / 22 + 4 / 36))  # 200 × mean |e| / (|A| + |F|)
    assert row["mape"] == pytest.approx(100 * (2 / 10 + 4 / 20) / 2)
    assert row["wmape"] == pytest.approx(6 / 30)
    assert row["bias"] == pytest.approx(-2 / 30)


def test_a_method_missing_a_holdout_forecast_is_refused_rather_than_scored_on_fewer_rows():
    forecasts = pl.DataFrame({
        "sku": ["A", "A", "A"], "month": [START, add_months(START, 1), START], "method": ["m", "m", "gappy"],
        "forecast": [12.0, 16.0, 10.0],
    })
    with pytest.raises(ValueError, match="gappy"):
        score_holdout(_data(), forecasts, START)


def test_a_nan_forecast_counts_as_a_gap():
    forecasts = pl.DataFrame({"sku": ["A", "A"], "month": [START, add_months(START, 1)], "method": "m",
                              "forecast": [12.0, float("nan")]})
    with pytest.raises(ValueError, match="'m': 1"):
        score_holdout(_data(), forecasts, START)


@pytest.mark.parametrize("earlier", ["6", "-12", "23"])
def test_an_earlier_window_that_would_overlap_the_holdout_is_refused(earlier, capsys):
    from bench.accuracy import main

    dataset = "tourism" if earlier == "23" else "hospital"  # Tourism's holdout is 24 months
    with pytest.raises(SystemExit) as exit_:
        main([dataset, "--earlier", earlier])
    assert exit_.value.code == 2 and "--earlier must be 0 or at least the horizon" in capsys.readouterr().err
