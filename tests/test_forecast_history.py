from datetime import date

import polars as pl

from sop_pipeline.cycle import months_between
from sop_pipeline.forecast.history import impute_stockouts, lag_expr, monthly_history


def test_months_between_crosses_year_ends():
    assert months_between(date(2024, 12, 1), date(2026, 2, 1)) == 14
    assert months_between(date(2026, 2, 1), date(2026, 2, 1)) == 0


def test_lag_is_one_for_the_origins_own_month():
    months = pl.DataFrame({"month": [date(2025, 11, 1), date(2025, 12, 1), date(2026, 2, 1)]})
    assert months.select(lag_expr(date(2025, 11, 1)))["month"].to_list() == [1, 2, 4]


def test_monthly_history_sums_channels_zero_fills_and_cuts_at_origin():
    history = pl.DataFrame(
        {
            "sku": ["A", "A", "A", "A"],
            "month": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 3, 1), date(2025, 5, 1)],
            "units": [3, 4, 5, 99],
            "is_stockout": [False, True, False, False],
        }
    )
    out = monthly_history(history, origin=date(2025, 5, 1))
    assert out["month"].to_list() == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)]
    assert out["units"].to_list() == [7.0, 0.0, 5.0, 0.0]
    assert out["is_stockout"].to_list() == [True, False, False, False]


def test_stockout_month_takes_the_mean_of_uncensored_neighbours_but_never_less_than_sold():
    series = pl.DataFrame(
        {
            "sku": ["A"] * 5,
            "month": [date(2025, m, 1) for m in range(1, 6)],
            "units": [10.0, 2.0, 30.0, 0.0, 5.0],
            "is_stockout": [False, True, False, False, False],
        }
    )
    # Window 3 around February: January..May without February = (10 + 30 + 0 + 5) / 4.
    assert impute_stockouts(series)["units"].to_list() == [10.0, 11.25, 30.0, 0.0, 5.0]
    high = series.with_columns(pl.when(pl.col("is_stockout")).then(50.0).otherwise(pl.col("units")).alias("units"))
    assert impute_stockouts(high)["units"][1] == 50.0
