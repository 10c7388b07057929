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


def _many(forecasts_by_sku: dict[str, dict[str, float]]) -> pl.DataFrame:
    return pl.concat([_backtest(forecasts, skus=(sku,)) for sku, forecasts in forecasts_by_sku.items()])


def test_a_step_better_on_every_sku_becomes_champion():
    # Theta is 0.5 units off on every SKU, naive 4: every resample agrees, the gain is clear.
    backtest = _backtest(skus=tuple("ABCDEFGH"))
    champions = choose_champion(backtest, forecast_value_added(backtest), n_boot=100)
    row = champions.filter(segment_type="total").row(0, named=True)
    assert (row["step"], row["method"]) == ("statistical", "theta")
    assert row["mean_mase"] == pytest.approx(0.5)  # |10 - 9.5| / scale 1
    assert row["gain_low"] > 0


def test_a_gain_carried_by_one_sku_out_of_many_does_not_change_the_champion():
    # LightGBM is exact on one SKU and as far off as naive on the other nine: its mean error is lower,
    # but only because of which SKU happened to be drawn, and naive stays.
    forecasts = {sku: {"naive": 6.0, "lightgbm": 6.0} for sku in "BCDEFGHIJ"}
    forecasts["A"] = {"naive": 6.0, "lightgbm": 10.0}
    backtest = _many(forecasts)
    fva = forecast_value_added(backtest)
    assert fva.filter(lag=1, step="lightgbm")["wmape"].item() < fva.filter(lag=1, step="naive")["wmape"].item()
    assert choose_champion(backtest, fva, n_boot=200)["step"].item() == "naive"


def test_a_pattern_keeps_the_catalogues_champion_unless_its_own_gain_is_clear():
    # Smooth SKUs: LightGBM exact, naive 4 off. One intermittent SKU where naive is exact: a single SKU
    # is no evidence, so it keeps LightGBM; ten such SKUs are, and they switch to naive.
    smooth = {f"S{i}": {"naive": 6.0, "lightgbm": 10.0} for i in range(30)}
    for n_intermittent, expected in ((1, "lightgbm"), (10, "naive")):
        odd = {f"I{i}": {"naive": 10.0, "lightgbm": 5.0} for i in range(n_intermittent)}
        backtest = _many({**smooth, **odd})
        products = pl.DataFrame({"sku": [*smooth, *odd], "pattern": ["smooth"] * 30 + ["intermittent"] * n_intermittent})
        champions = choose_champion(backtest, forecast_value_added(backtest, products), products, n_boot=200)
        assert champions.filter(segment="total")["step"].item() == "lightgbm"
        assert champions.filter(segment="smooth")["step"].item() == "lightgbm"
        assert champions.filter(segment="intermittent")["step"].item() == expected


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


def test_a_gain_made_in_one_month_for_every_sku_is_not_called_significant():
    """Every SKU errs alike: naive misses all of month 1 (100 units), LightGBM misses 10 units in each of the
    five other months. Over the sample LightGBM wins (WMAPE 0.083 against 0.167), but only because of month
    1. Resampling SKUs alone would call that certain (all SKUs are the same); resampling the origins too
    shows a backtest without month 1 would rank them the other way."""
    rows = []
    for sku in range(20):
        for k in range(6):
            month = date(2025, k + 1, 1)
            for method, forecast in (("naive", 0.0 if k == 0 else 100.0), ("lightgbm", 100.0 if k == 0 else 90.0)):
                rows.append({"sku": f"S{sku:02d}", "origin": month, "month": month, "lag": 1, "actual": 100.0,
                             "is_stockout": False, "method": method, "forecast": forecast, "scale": 1.0})
    backtest = pl.DataFrame(rows)
    fva = forecast_value_added(backtest)
    gain = fva.filter(step="lightgbm")
    assert gain["fva_vs_naive"].item() == pytest.approx(2000 / 12000 - 1000 / 12000)
    interval = fva_interval(backtest, fva, n_boot=200).filter(step="lightgbm")
    assert interval["fva_low"].item() < 0 < interval["fva_high"].item()
    assert not interval["is_significant"].item()
    assert choose_champion(backtest, fva, n_boot=200)["step"].item() == "naive"


def test_the_bootstrap_means_skip_unknown_values_and_say_nothing_for_an_empty_resample():
    import warnings

    import numpy as np

    from sop_pipeline.forecast.fva import _nanmean_rows

    values = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 2.0, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # np.nanmean would warn "Mean of empty slice" on the second row
        means = _nanmean_rows(values)
    assert means[0] == 2.0 and np.isnan(means[1]) and means[2] == 3.0
