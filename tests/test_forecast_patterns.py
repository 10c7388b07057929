from datetime import date

import polars as pl
import pytest

from sop_pipeline.forecast.history import fill_unknown, impute_stockouts, monthly_history
from sop_pipeline.forecast.patterns import demand_patterns


def _series(values: dict[str, list[float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(sku, date(2024, m + 1, 1), v) for sku, vs in values.items() for m, v in enumerate(vs)],
        schema={"sku": pl.String, "month": pl.Date, "units": pl.Float64},
        orient="row",
    )


def test_adi_and_cv2_place_each_series_in_its_quadrant():
    out = demand_patterns(
        _series(
            {
                "SMOOTH": [10, 10, 12, 8, 10, 10],  # ADI 1, sizes steady
                "ERRATIC": [1, 20, 1, 20, 1, 20],  # ADI 1, CV² of sizes ≈ 0.82
                "INTERMITTENT": [0, 0, 5, 0, 0, 5],  # ADI 3, sizes equal
                "LUMPY": [0, 0, 1, 0, 0, 30],  # ADI 3, CV² ≈ 0.87
                "NEVER": [0, 0, 0, 0, 0, 0],
            }
        )
    )
    rows = {r["sku"]: r for r in out.iter_rows(named=True)}
    assert {sku: r["pattern"] for sku, r in rows.items()} == {
        "SMOOTH": "smooth", "ERRATIC": "erratic", "INTERMITTENT": "intermittent", "LUMPY": "lumpy",
        "NEVER": "intermittent",
    }
    assert rows["INTERMITTENT"]["adi"] == pytest.approx(3.0)
    # Sizes 1 and 30: mean 15.5, std 14.5 -> CV² = (14.5 / 15.5)².
    assert rows["LUMPY"]["cv2"] == pytest.approx((14.5 / 15.5) ** 2)
    assert rows["SMOOTH"]["months_of_history"] == 6


def test_unknown_months_count_neither_as_history_nor_as_empty_months():
    # Two demand months among three known ones: ADI 1.5, not 3 as zeros would make it.
    out = demand_patterns(_series({"A": [4, None, None, 0, 4, None]}))
    assert out.row(0, named=True)["adi"] == pytest.approx(1.5)
    assert out["months_of_history"].item() == 3


def test_a_missing_month_stays_unknown_through_the_history_and_is_then_estimated_from_its_neighbours():
    history = pl.DataFrame(
        {
            "sku": ["A"] * 5,
            "channel": ["all"] * 5,
            "month": [date(2024, m, 1) for m in (1, 2, 3, 4, 5)],
            "units": [10.0, 20.0, None, 30.0, 0.0],
            "is_missing": [False, False, True, False, False],
        }
    )
    series = monthly_history(history, date(2024, 7, 1))
    # March is unknown; June has no row at all and sold nothing.
    assert series["units"].to_list() == [10.0, 20.0, None, 30.0, 0.0, 0.0]
    imputed = impute_stockouts(series.with_columns(pl.lit(False).alias("is_stockout")))
    # The known months within 3 either side of March: 10, 20, 30, 0, 0 -> mean 12.
    assert imputed["units"][2] == pytest.approx(12.0)


def test_unknown_months_without_a_known_neighbour_carry_the_last_known_level():
    series = _series({"A": [5.0] + [None] * 8, "B": [None] * 3}).with_columns(pl.lit(False).alias("is_stockout"))
    filled = fill_unknown(impute_stockouts(series))
    assert filled.filter(sku="A")["units"].to_list() == [5.0] * 9
    assert "B" not in filled["sku"].to_list()  # nothing known, nothing to forecast from
