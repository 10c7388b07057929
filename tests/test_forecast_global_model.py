from datetime import date

import numpy as np
import polars as pl
import pytest

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
