from datetime import date

import polars as pl
import pytest

from sop_pipeline.forecast.backtest import backtest, backtest_origins, refit_interval
from sop_pipeline.cycle import add_months

LAST = date(2024, 12, 1)


def _history(months: int = 20) -> pl.DataFrame:
    start = add_months(LAST, -(months - 1))
    return pl.DataFrame(
        {
            "sku": [s for s in ("A", "B") for _ in range(months)],
            "month": [add_months(start, t) for _ in range(2) for t in range(months)],
            "units": [float(10 + (t % 3)) for _ in range(2) for t in range(months)],
            "is_stockout": False,
        }
    )


def test_origins_are_the_last_k_months_that_leave_enough_training_history():
    assert backtest_origins(_history(20), n_origins=3) == [date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)]
    # 14 months of history and 12 required for training: only the last 2 months qualify.
    assert backtest_origins(_history(14), n_origins=12) == [date(2024, 11, 1), date(2024, 12, 1)]


@pytest.fixture(scope="module")
def result() -> pl.DataFrame:
    return backtest(_history(), horizon=3, n_origins=3, include_lightgbm=False)


def test_backtest_rows_carry_lag_actual_and_only_months_with_an_actual(result):
    assert result.columns == [
        "sku", "origin", "month", "lag", "actual", "is_stockout", "method", "forecast", "scale", "months_of_history"
    ]
    first = result.filter(origin=date(2024, 10, 1), sku="A", method="naive")
    # The history starts in May 2023: 17 months before the October 2024 origin.
    assert set(first["months_of_history"]) == {17}
    assert first["lag"].to_list() == [1, 2, 3]
    # Month t counts from May 2023 (t = 0): October..December 2024 are t = 17, 18, 19 -> 10 + t % 3.
    assert first["actual"].to_list() == [12.0, 10.0, 11.0]
    assert result.filter(origin=LAST)["lag"].unique().to_list() == [1]


def test_naive_of_each_origin_repeats_the_month_before_it(result):
    naive = result.filter(sku="A", method="naive", lag=1).sort("origin")
    # The months before the origins, September..November 2024, are t = 16, 17, 18 -> 11, 12, 10.
    assert naive["forecast"].to_list() == [11.0, 12.0, 10.0]


def test_a_spike_planted_after_an_origin_does_not_change_that_origins_forecasts():
    history = _history()
    spike_month = date(2024, 11, 1)
    spiked = history.with_columns(
        pl.when((pl.col("sku") == "A") & (pl.col("month") == spike_month))
        .then(5000.0)
        .otherwise(pl.col("units"))
        .alias("units")
    )
    clean = backtest(history, horizon=3, n_origins=3)
    dirty = backtest(spiked, horizon=3, n_origins=3)
    key = ["sku", "origin", "month", "method"]
    for origin in (date(2024, 10, 1), date(2024, 11, 1)):
        before = clean.filter(origin=origin).select(*key, "forecast")
        assert dirty.filter(origin=origin).select(*key, "forecast").equals(before)
    # The spike is in the actuals, and the origin after it does see it: the test can fail.
    assert dirty.filter(origin=date(2024, 10, 1), month=spike_month, sku="A")["actual"].unique().to_list() == [5000.0]
    later = dirty.filter(origin=LAST, sku="A", method="naive")["forecast"].item()
    assert later == 5000.0


def test_the_backtest_is_deterministic(result):
    assert backtest(_history(), horizon=3, n_origins=3, include_lightgbm=False).equals(result)


def test_the_refit_interval_keeps_the_series_fits_within_the_budget():
    assert refit_interval(150, 12) == 1  # the demo: every origin refits
    assert refit_interval(3_333, 12) == 1  # 39,996 fits
    assert refit_interval(3_334, 12) == 2  # 40,008 fits: every second origin
    assert refit_interval(10_000, 12) == 3  # 120,000 fits: every third origin


def _seasonal(n_skus: int = 12, months: int = 40) -> pl.DataFrame:
    start = add_months(LAST, -(months - 1))
    return pl.DataFrame([
        (f"S{s:02d}", add_months(start, t), float(20 + s + 8 * ((t + s) % 12 in (10, 11)) + (t * s) % 5))
        for s in range(n_skus) for t in range(months)
    ], schema=["sku", "month", "units"], orient="row").with_columns(pl.lit(False).alias("is_stockout"))


@pytest.fixture(scope="module")
def carried() -> dict[int, pl.DataFrame]:
    history = _seasonal()
    return {every: backtest(history, horizon=3, n_origins=4, refit_every=every) for every in (1, 2)}


def test_refit_origins_match_the_backtest_that_refits_every_origin(carried):
    costly = pl.col("method").is_in(["theta", "lightgbm"])
    refit_origins = [date(2024, 9, 1), date(2024, 11, 1)]  # origins 0 and 2 of Sep..Dec
    every, second = (carried[k].filter(costly & pl.col("origin").is_in(refit_origins)) for k in (1, 2))
    assert every.height > 0 and every.equals(second)
    # Between refits the fits are carried forward: other numbers, close ones (same models, older parameters).
    between = [carried[k].filter(costly & ~pl.col("origin").is_in(refit_origins)) for k in (1, 2)]
    joined = between[0].join(between[1], on=["sku", "origin", "month", "method"])
    assert (joined["forecast"] != joined["forecast_right"]).any()
    assert ((joined["forecast"] - joined["forecast_right"]).abs() / joined["forecast"]).median() < 0.1
    simple = ~costly
    assert carried[1].filter(simple).equals(carried[2].filter(simple))


def test_a_carried_fit_never_sees_the_months_on_or_after_its_origin():
    history = _seasonal()
    origin = date(2024, 10, 1)  # origin 1 of Sep..Dec: carries the fits made at September
    changed = history.with_columns(
        pl.when(pl.col("month") >= origin).then(pl.col("units") * 7).otherwise(pl.col("units")).alias("units"))
    runs = [backtest(h, horizon=3, n_origins=4, refit_every=2).filter(origin=origin).select("sku", "month", "method", "forecast")
            for h in (history, changed)]
    assert runs[0].equals(runs[1])
