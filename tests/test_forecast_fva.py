from datetime import date

import polars as pl
import pytest

from sop_pipeline.forecast.fva import choose_champion, forecast_value_added, fva_interval

ORIGIN = date(2025, 1, 1)
# Every SKU sells 10 units in each month; each method forecasts one flat value.
FORECASTS = {
    "naive": 6.0,
    "seasonal_naive": 8.0,
    "moving_average": 9.0,
    "croston_sba": 12.0,
    "theta": 9.5,
    "lightgbm": 11.0,
}


def _backtest(forecasts: dict[str, float] = FORECASTS, skus=("A", "B")) -> pl.DataFrame:
    rows = [
        {
            "sku": sku,
            "origin": ORIGIN,
            "month": date(2025, lag, 1),
            "lag": lag,
            "actual": 10.0,
            "is_stockout": False,
            "method": method,
            "forecast": value,
            "scale": 1.0,
        }
        for sku in skus
        for lag in (1, 2)
        for method, value in forecasts.items()
    ]
    return pl.DataFrame(rows)


PRODUCTS = pl.DataFrame({"sku": ["A", "B"], "family": ["Candles", "Soaps"], "segment": ["AX", "CZ"]})


@pytest.fixture(scope="module")
def fva() -> pl.DataFrame:
    return forecast_value_added(_backtest(), PRODUCTS)


def test_each_step_reports_its_wmape_and_a_positive_fva_when_it_lowers_the_error(fva):
    lag1 = fva.filter(segment_type="total", lag=1)
    assert lag1["step"].to_list() == ["naive", "seasonal_naive", "statistical", "lightgbm"]
    assert lag1["method"].to_list() == ["naive", "seasonal_naive", "theta", "lightgbm"]
    assert lag1["wmape"].to_list() == pytest.approx([0.4, 0.2, 0.05, 0.1])
    assert lag1["fva_vs_naive"].to_list() == pytest.approx([0.0, 0.2, 0.35, 0.3])
    # LightGBM beats naive but destroys value against the statistical step before it.
    assert lag1["fva_vs_previous"].to_list()[1:] == pytest.approx([0.2, 0.15, -0.05])
    assert lag1["fva_vs_previous"][0] is None


def test_fva_is_reported_for_total_family_and_abc_xyz_segments(fva):
    segments = fva.select("segment_type", "segment").unique().sort("segment_type", "segment").rows()
    assert segments == [
        ("abc_xyz", "AX"),
        ("abc_xyz", "CZ"),
        ("family", "Candles"),
        ("family", "Soaps"),
        ("total", "total"),
    ]


def test_stockout_months_and_rows_not_forecast_by_every_step_are_not_scored():
    extra = _backtest({"lightgbm": 500.0}, skus=("NEW",))
    # A whole origin of stockout months with absurd forecasts: it must not move any score.
    censored = _backtest().with_columns(
        pl.lit(True).alias("is_stockout"), pl.lit(999.0).alias("forecast"), pl.lit(date(2024, 12, 1)).alias("origin")
    )
    fva = forecast_value_added(pl.concat([_backtest(), extra, censored]), PRODUCTS)
    lag1 = fva.filter(segment_type="total", lag=1)
    assert lag1["wmape"].to_list() == pytest.approx([0.4, 0.2, 0.05, 0.1])
    assert set(lag1["n_scored"]) == {2}


def test_consensus_is_the_last_step_when_the_backtest_has_it():
    fva = forecast_value_added(pl.concat([_backtest(), _backtest({"consensus": 10.0})]))
    lag1 = fva.filter(lag=1)
    assert lag1["step"].to_list()[-1] == "consensus"
    assert lag1["fva_vs_previous"][-1] == pytest.approx(0.1)


def test_champion_is_the_step_with_the_lowest_mean_error(fva):
    champions = choose_champion(fva)
    assert champions.filter(segment_type="total").select("step", "method").row(0) == ("statistical", "theta")
    assert champions["mean_wmape"][0] == pytest.approx(0.05)


def test_a_near_tie_goes_to_the_simpler_step():
    fva = pl.DataFrame(
        {
            "segment_type": ["total"] * 3,
            "segment": ["total"] * 3,
            "lag": [1, 1, 1],
            "step": ["naive", "statistical", "lightgbm"],
            "step_order": [0, 2, 3],
            "method": ["naive", "theta", "lightgbm"],
            "wmape": [0.300, 0.298, 0.297],
        }
    )
    assert choose_champion(fva)["step"].item() == "naive"
    assert choose_champion(fva, tolerance=0.0)["step"].item() == "lightgbm"


def test_a_gain_shared_by_every_sku_is_significant(fva):
    intervals = fva_interval(_backtest(), fva, PRODUCTS, n_boot=50)
    lightgbm = intervals.filter(segment_type="total", lag=1, step="lightgbm").row(0, named=True)
    # Every SKU × origin has the same errors: every resample gives the same gain.
    assert lightgbm["fva_low"] == pytest.approx(0.3) and lightgbm["fva_high"] == pytest.approx(0.3)
    assert lightgbm["is_significant"]


def test_a_gain_that_depends_on_which_skus_were_drawn_is_not_significant():
    # Naive is exact on A and 4 units off on B; LightGBM the other way round: no gain on average.
    backtest = pl.concat(
        [
            _backtest({"naive": 10.0, "lightgbm": 6.0}, skus=("A",)),
            _backtest({"naive": 6.0, "lightgbm": 10.0}, skus=("B",)),
        ]
    )
    fva = forecast_value_added(backtest)
    intervals = fva_interval(backtest, fva, n_boot=200, seed=1)
    row = intervals.filter(lag=1, step="lightgbm").row(0, named=True)
    assert row["fva_vs_naive"] == pytest.approx(0.0)
    assert row["fva_low"] < 0 < row["fva_high"]
    assert not row["is_significant"]
    assert fva_interval(backtest, fva, n_boot=200, seed=1).equals(intervals)
