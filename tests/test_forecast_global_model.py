from datetime import date

import numpy as np
import polars as pl
import pytest

import sop_pipeline.forecast.global_model as gm
from sop_pipeline.forecast.global_model import fit_and_forecast, forecast_lightgbm
from sop_pipeline.cycle import add_months

ORIGIN = date(2025, 1, 1)
START = add_months(ORIGIN, -36)


def _catalogue(n_skus: int = 6, months: int = 36) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(7)
    rows = []
    for s in range(n_skus):
        level = 10.0 * (s + 1)
        for t in range(months):
            season = 1.0 + 0.5 * np.sin(2 * np.pi * t / 12)
            rows.append((f"S{s}", add_months(ORIGIN, t - months), float(rng.poisson(level * season))))
    history = pl.DataFrame(rows, schema=["sku", "month", "units"], orient="row")
    products = pl.DataFrame(
        {
            "sku": [f"S{s}" for s in range(n_skus)] + ["NEW"],
            "family": ["Candles"] * (n_skus + 1),
            "unit_price": [10.0] * (n_skus + 1),
            "launch_date": [START] * n_skus + [date(2025, 3, 10)],
        }
    )
    return history, products


@pytest.fixture(scope="module")
def catalogue():
    return _catalogue()


@pytest.fixture(scope="module")
def fitted(catalogue):
    history, products = catalogue
    return fit_and_forecast(history, ORIGIN, 4, products)


def test_global_model_forecasts_every_sku_and_month_non_negative(fitted):
    out = fitted.forecast
    assert fitted.fallback_reason is None
    assert out.columns == ["sku", "month", "method", "forecast"]
    assert out.height == 7 * 4
    assert set(out["method"]) == {"lightgbm"}
    assert (out["forecast"] >= 0).all()


def test_forecasts_follow_the_level_of_each_sku(fitted):
    means = fitted.forecast.group_by("sku").agg(pl.col("forecast").mean()).sort("sku")
    small = means.filter(sku="S0")["forecast"].item()
    large = means.filter(sku="S5")["forecast"].item()
    assert 3 < small < 25 and 35 < large < 100


def test_new_sku_gets_zero_before_launch_and_a_forecast_from_attributes_after(fitted):
    new = fitted.forecast.filter(sku="NEW").sort("month")["forecast"].to_list()
    assert new[:2] == [0.0, 0.0]
    assert new[2] > 0 and new[3] > 0


def test_the_same_inputs_give_identical_forecasts(catalogue, fitted):
    history, products = catalogue
    assert forecast_lightgbm(history, ORIGIN, 4, products).equals(fitted.forecast)


def test_months_on_or_after_the_origin_never_reach_the_model(catalogue, fitted):
    history, products = catalogue
    spike = pl.DataFrame({"sku": ["S0", "S1"], "month": [ORIGIN, add_months(ORIGIN, 2)], "units": [1e6, 1e6]})
    assert forecast_lightgbm(pl.concat([history, spike]), ORIGIN, 4, products).equals(fitted.forecast)


def test_too_little_history_falls_back_to_a_moving_average_and_says_so():
    history = pl.DataFrame(
        {"sku": ["A"] * 4, "month": [add_months(ORIGIN, -i) for i in range(4, 0, -1)], "units": [1.0, 2.0, 4.0, 6.0]}
    )
    result = fit_and_forecast(history, ORIGIN, 2)
    assert "training rows" in result.fallback_reason
    assert result.forecast["forecast"].to_list() == pytest.approx([4.0, 4.0])


def test_constant_demand_falls_back_instead_of_fitting_a_degenerate_model():
    history = pl.DataFrame(
        {
            "sku": [f"S{s}" for s in range(10) for _ in range(24)],
            "month": [add_months(ORIGIN, t - 24) for _ in range(10) for t in range(24)],
            "units": 5.0,
        }
    )
    result = fit_and_forecast(history, ORIGIN, 3)
    assert result.fallback_reason == "constant target"
    assert set(result.forecast["forecast"]) == {5.0}


def test_a_planned_event_raises_the_forecast_of_its_month(catalogue):
    history, products = catalogue
    # In the past, every event month sold double; the model learns the uplift feature from that.
    event_months = [add_months(ORIGIN, -k) for k in (3, 8, 14, 20, 27, 33)]
    events = pl.DataFrame(
        {"sku": [f"S{s}" for s in range(6) for _ in event_months], "month": event_months * 6, "uplift": 1.0}
    )
    doubled = history.join(events, on=["sku", "month"], how="left").with_columns(
        (pl.col("units") * (1 + pl.col("uplift").fill_null(0.0))).alias("units")
    ).drop("uplift")
    future = pl.DataFrame({"sku": ["S3"], "month": [add_months(ORIGIN, 1)], "uplift": [1.0]})
    with_event = forecast_lightgbm(doubled, ORIGIN, 3, products, pl.concat([events, future]))
    without = forecast_lightgbm(doubled, ORIGIN, 3, products, events)
    month = add_months(ORIGIN, 1)
    assert with_event.filter(sku="S3", month=month)["forecast"].item() > 1.3 * without.filter(
        sku="S3", month=month
    )["forecast"].item()


def test_training_rows_count_known_targets_and_a_large_catalogue_is_sampled_by_sku(monkeypatch):
    y = np.array([
        [1.0, 2.0, 3.0, 4.0],        # 4 known months
        [np.nan, np.nan, 5.0, 6.0],  # launched at month 2
        [1.0, np.nan, 1.0, 1.0],     # one unknown month
    ])
    cuts = gm._training_cuts(y.shape[1])
    assert list(cuts) == [1, 2, 3]
    everyone = np.array([True, True, True])
    # Targets at cut c and lags 1..2 are months c, c+1 (< 4): cut 1 → months 1, 2; cut 2 → 2, 3; cut 3 → 3.
    # Known: SKU 0: 2 + 2 + 1 = 5; SKU 1: 1 + 2 + 1 = 4; SKU 2: 1 + 2 + 1 = 4. Total 13.
    monkeypatch.setattr(gm, "MAX_TRAINING_ROWS", 13)
    assert gm._training_skus(y, cuts, 2, everyone).tolist() == [True, True, True]
    monkeypatch.setattr(gm, "MAX_TRAINING_ROWS", 9)
    sample = gm._training_skus(y, cuts, 2, everyone)
    assert sample.sum() == 2  # any two SKUs make 8 or 9 rows; all three would make 13
    assert gm._training_skus(y, cuts, 2, everyone).tolist() == sample.tolist()  # seeded: the same every run
    assert not gm._training_skus(y, cuts, 2, np.array([True, False, True]))[1]  # only SKUs of the group


def test_a_sampled_catalogue_still_learns_every_lag_of_the_horizon(monkeypatch):
    """Cutting the training rows by dropping old cuts once taught a 10,000-SKU model lags 1-3 only."""
    rng = np.random.default_rng(1)
    y = rng.poisson(20, size=(300, 48)).astype(float)
    monkeypatch.setattr(gm, "MAX_TRAINING_ROWS", 5_000)
    cuts = gm._training_cuts(48)
    learners = gm._training_skus(y, cuts, 12, np.ones(300, dtype=bool))
    assert 0 < learners.sum() < 300
    static = {"family": np.zeros(300), "unit_price": np.ones(300), "launch_index": np.zeros(300, dtype=int)}
    x, target = gm._training_rows(y, cuts, 12, learners, np.zeros(300, dtype=int), static, np.zeros((300, 60)),
                                  np.tile(np.arange(1, 13), 5))
    lag = x[:, gm.FEATURES.index("lag")]
    month = x[:, gm.FEATURES.index("month_of_year")]
    assert set(lag.tolist()) == set(range(1, 13)) and set(month.tolist()) == set(range(1, 13))
    assert len(target) <= 5_000
