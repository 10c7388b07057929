"""The backtest's folds kept between cycles: a stored fold is only ever the fold the code would compute."""

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.backtest import backtest, backtest_origins, origin_forecasts
from sop_pipeline.forecast.events import origin_event_uplift
from sop_pipeline.forecast.folds import FoldCache
from sop_pipeline.forecast.global_model import METHOD as GLOBAL_METHOD

LAST = date(2024, 12, 1)
ORIGINS = 4


def _history(months: int = 24, last: date = LAST) -> pl.DataFrame:
    start = add_months(last, -(months - 1))
    return pl.DataFrame({
        "sku": [s for s in ("A", "B", "C") for _ in range(months)],
        "month": [add_months(start, t) for _ in range(3) for t in range(months)],
        "units": [float(10 + 3 * i + (t % 4) + (t % 12 == 11) * 8) for i in range(3) for t in range(months)],
        "is_stockout": False,
    })


PRODUCTS = pl.DataFrame({"sku": ["A", "B", "C"], "family": ["F", "F", "G"], "unit_price": [5.0, 8.0, 3.0],
                         "launch_date": [None, None, None], "pattern": ["smooth"] * 3}, schema_overrides={
                         "launch_date": pl.Date})


def _run(history, cache=None, include_lightgbm=False):
    """The global model is in the first test only: the rest are about which folds are reused."""
    return backtest(history, horizon=3, n_origins=ORIGINS, products=PRODUCTS, include_lightgbm=include_lightgbm,
                    cache=cache)


@pytest.fixture(scope="module")
def fresh() -> pl.DataFrame:
    return _run(_history())


def test_a_cold_and_a_warm_cache_give_the_backtest_without_one(tmp_path):
    without = _run(_history(), include_lightgbm=True)
    assert GLOBAL_METHOD in without["method"].unique().to_list()
    cold = FoldCache(tmp_path)
    assert_frame_equal(_run(_history(), cold, include_lightgbm=True), without)
    assert (cold.hits, cold.misses) == (0, ORIGINS)
    warm = FoldCache(tmp_path)
    assert_frame_equal(_run(_history(), warm, include_lightgbm=True), without)
    assert (warm.hits, warm.misses) == (ORIGINS, 0)


def test_next_cycle_refits_only_its_new_origin(tmp_path):
    _run(_history(), FoldCache(tmp_path))
    # One month later: the history grows by a month and the origins move on by one.
    later = _history(25, add_months(LAST, 1))
    cache = FoldCache(tmp_path)
    assert_frame_equal(_run(later, cache), _run(later))
    assert (cache.hits, cache.misses) == (ORIGINS - 1, 1)
    # The fold of the origin that rolled off is removed: the folder holds this cycle's folds.
    assert len(list(tmp_path.glob("*.parquet"))) == ORIGINS


def test_columns_the_models_do_not_read_leave_the_folds_as_they_are(fresh, tmp_path):
    # The fact base stamps each row with the cycle it was built for, and splits units by channel.
    _run(_history().with_columns(cycle=pl.lit(LAST), channel=pl.lit("DTC")), FoldCache(tmp_path))
    split = pl.concat([_history().with_columns(units=pl.col("units") * share, channel=pl.lit(channel))
                       for share, channel in ((0.5, "DTC"), (0.5, "Retail"))])
    cache = FoldCache(tmp_path)
    assert_frame_equal(_run(split.with_columns(cycle=pl.lit(add_months(LAST, 1))), cache), fresh)
    assert (cache.hits, cache.misses) == (ORIGINS, 0)


def test_a_restated_month_refits_every_origin_after_it_and_no_other(fresh, tmp_path):
    _run(_history(), FoldCache(tmp_path))
    origins = backtest_origins(_history(), ORIGINS)
    restated_month = origins[1]  # seen by the folds of origins[2:] only
    history = _history().with_columns(
        pl.when((pl.col("sku") == "B") & (pl.col("month") == restated_month)).then(99.0)
        .otherwise(pl.col("units")).alias("units"))
    cache = FoldCache(tmp_path)
    assert_frame_equal(_run(history, cache), _run(history))
    assert (cache.hits, cache.misses) == (2, ORIGINS - 2)


def test_a_price_or_an_event_the_global_model_reads_refits_the_fold(tmp_path):
    origin = backtest_origins(_history(), ORIGINS)[-1]
    events = pl.DataFrame({"sku": ["A"], "month": [origin], "uplift": [0.5]})
    cache = FoldCache(tmp_path)
    origin_forecasts(_history(), origin, 3, PRODUCTS, events, cache=cache)
    origin_forecasts(_history(), origin, 3, PRODUCTS.with_columns(pl.col("unit_price") * 2), events, cache=cache)
    origin_forecasts(_history(), origin, 3, PRODUCTS, events.with_columns(uplift=pl.lit(0.7)), cache=cache)
    # Events past the horizon's end and product columns the model does not read leave the fold as it is.
    beyond = pl.concat([events, pl.DataFrame({"sku": ["A"], "month": [add_months(origin, 3)], "uplift": [0.9]})])
    origin_forecasts(_history(), origin, 3, PRODUCTS.with_columns(pattern=pl.lit("lumpy")), beyond, cache=cache)
    assert (cache.hits, cache.misses) == (1, 3)


def test_a_fold_left_half_written_or_unreadable_is_computed_again(fresh, tmp_path):
    _run(_history(), FoldCache(tmp_path))
    (tmp_path / "leftover.tmp").write_bytes(b"a run killed between write and rename")
    folds = sorted(tmp_path.glob("*.parquet"))
    folds[0].write_bytes(b"not parquet")
    cache = FoldCache(tmp_path)
    assert not (tmp_path / "leftover.tmp").exists()
    assert_frame_equal(_run(_history(), cache), fresh)
    assert (cache.hits, cache.misses) == (ORIGINS - 1, 1)


def test_carried_fits_are_not_cached(tmp_path):
    cache = FoldCache(tmp_path)
    backtest(_history(), horizon=3, n_origins=ORIGINS, products=PRODUCTS, include_lightgbm=False, refit_every=2,
             cache=cache)
    assert (cache.hits, cache.misses) == (0, 0)
    assert not list(tmp_path.glob("*.parquet"))


def test_the_replay_and_the_forecast_stage_keep_each_others_folds(tmp_path):
    # The forecast stage used origins 1-4; the replay, sharing the folder, used 3-6.
    history = _history()
    origins = [add_months(LAST, -k) for k in range(5, -1, -1)]
    forecast, replay = FoldCache(tmp_path), FoldCache(tmp_path, consumer="replay")
    for origin in origins[:4]:
        origin_forecasts(history, origin, 3, PRODUCTS, include_lightgbm=False, cache=forecast)
    assert forecast.keep_only_used() == 0
    for origin in origins[2:]:
        origin_forecasts(history, origin, 3, PRODUCTS, include_lightgbm=False, cache=replay)
    assert (replay.hits, replay.misses) == (2, 2)
    assert replay.keep_only_used() == 0  # origins 1-2 are the forecast stage's: kept
    assert len(list(tmp_path.glob("*.parquet"))) == 6
    # The next forecast run uses origins 5-6 only: 1-2 now belong to nobody and go, 3-4 stay for the replay.
    later = FoldCache(tmp_path)
    for origin in origins[4:]:
        origin_forecasts(history, origin, 3, PRODUCTS, include_lightgbm=False, cache=later)
    assert later.keep_only_used() == 2
    assert len(list(tmp_path.glob("*.parquet"))) == 4


def test_uplift_as_known_at_each_origin_keeps_a_fold_the_same_a_cycle_later(tmp_path):
    # A channel promotion on A in the last month; A sold only DTC until two months before the end, then only
    # Marketplace. Weighted by the mix before the cycle, every origin's uplift (and fold) would change as the
    # mix moves; weighted by the mix before each origin, a fold is the same fold one cycle later.
    history = _history().with_columns(
        pl.when(pl.col("month") >= add_months(LAST, -1)).then(pl.lit("Marketplace")).otherwise(pl.lit("DTC"))
        .alias("channel"))
    events = pl.DataFrame({"event_id": ["E1"], "sku": ["A"], "family": [None], "channel": ["Marketplace"],
                           "start_date": [add_months(LAST, 1)], "end_date": [add_months(LAST, 1)],
                           "uplift_pct": [0.40]}, schema_overrides={"family": pl.String})
    at = {origin: origin_event_uplift(history, events, PRODUCTS, origin, 3)
          for origin in (add_months(LAST, -1), add_months(LAST, 1))}
    # Before LAST-1, A sold only DTC: a Marketplace event adds nothing. By LAST+1 its last two months were
    # Marketplace: the event counts at the Marketplace share of A's units over the 12 months before.
    assert at[add_months(LAST, -1)].filter(pl.col("uplift") > 0).is_empty()
    units = history.filter((pl.col("sku") == "A") & (pl.col("month") >= add_months(LAST, -11)))
    share = units.filter(pl.col("channel") == "Marketplace")["units"].sum() / units["units"].sum()
    row = at[add_months(LAST, 1)].filter(pl.col("month") == add_months(LAST, 1))
    assert row["uplift"].to_list() == [pytest.approx(0.40 * share)]

    def run(cycle_history, cache):
        return backtest(cycle_history, horizon=3, n_origins=ORIGINS, products=PRODUCTS, include_lightgbm=True,
                        events=lambda origin: origin_event_uplift(cycle_history, events, PRODUCTS, origin, 3),
                        cache=cache)

    run(history.filter(pl.col("month") < LAST), FoldCache(tmp_path))
    cache = FoldCache(tmp_path)
    run(history, cache)
    assert (cache.hits, cache.misses) == (ORIGINS - 1, 1)
