from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.plan.accuracy import (
    OVERRIDE_VALUE_SCHEMA,
    PLAN_ACCURACY_SCHEMA,
    PLAN_VS_ACTUAL_SCHEMA,
    override_value_added,
    plan_accuracy,
    plan_vs_actual,
)

CYCLE = date(2025, 4, 1)
DEC, JAN, FEB, MAR, APR = date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)

# The fact base of the April cycle. A sells on two channels; B is out of stock in January and March;
# C is new in February and has no row in March (it sold nothing). April is not closed yet.
HISTORY = pl.DataFrame(
    [
        ("A", "web", DEC, 12, False),
        ("A", "store", DEC, 8, False),
        ("A", "web", JAN, 6, False),
        ("A", "store", JAN, 4, False),
        ("A", "web", FEB, 7, False),
        ("A", "store", FEB, 5, False),
        ("A", "store", MAR, 9, False),
        ("A", "store", APR, 100, False),
        ("B", "web", DEC, 6, False),
        ("B", "web", JAN, 2, True),
        ("B", "web", FEB, 8, False),
        ("B", "web", MAR, 1, True),
        ("C", "web", FEB, 3, False),
    ],
    schema={"sku": pl.String, "channel": pl.String, "month": pl.Date, "units": pl.Int64, "is_stockout": pl.Boolean},
    orient="row",
)

# The current locked version of the February, March and April plans.
PLANS = pl.DataFrame(
    [
        (FEB, "A", FEB, 10.0, 11.0),  # override toward the actual (12)
        (FEB, "A", MAR, 10.0, 10.0),
        (FEB, "A", APR, 10.0, 10.0),  # not closed yet
        (FEB, "B", FEB, 7.0, 5.0),  # override away from the actual (8)
        (FEB, "B", MAR, 5.0, 5.0),
        (FEB, "C", FEB, 2.0, 2.0),
        (MAR, "A", MAR, 8.0, 9.0),
        (MAR, "A", APR, 8.0, 8.0),
        (MAR, "B", MAR, 3.0, 2.0),  # an override in a stockout month: censored, not scored
        (MAR, "C", MAR, 4.0, 1.0),
        (APR, "A", APR, 1.0, 1.0),  # the plan of the cycle itself
    ],
    schema={"plan_cycle": pl.Date, "sku": pl.String, "month": pl.Date, "forecast": pl.Float64, "consensus": pl.Float64},
    orient="row",
).with_columns(pl.lit(1).alias("version"))  # an extra column, ignored

PRODUCTS = pl.DataFrame({"sku": ["A", "B"], "family": ["Candles", "Soaps"], "segment": ["AX", "CZ"]})


@pytest.fixture(scope="module")
def pva() -> pl.DataFrame:
    return plan_vs_actual(PLANS, HISTORY, CYCLE, PRODUCTS)


@pytest.fixture(scope="module")
def scorecard(pva) -> pl.DataFrame:
    return plan_accuracy(pva)


def _row(frame: pl.DataFrame, **keys) -> dict:
    rows = frame.filter(**keys).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def _pva(rows: list[tuple]) -> pl.DataFrame:
    """A plan-vs-actual table from `(sku, family, lag, actual, is_stockout, naive, forecast, consensus)`."""
    frame = pl.DataFrame(
        rows,
        schema=["sku", "family", "lag", "actual", "is_stockout", "naive", "forecast", "consensus"],
        orient="row",
    )
    return frame.with_columns(
        pl.lit(FEB).alias("plan_cycle"),
        pl.lit(None, dtype=pl.String).alias("segment"),
        pl.date(2025, 1 + pl.col("lag"), 1).alias("month"),
        (pl.col("forecast") - pl.col("actual")).alias("forecast_error"),
        (pl.col("consensus") - pl.col("actual")).alias("consensus_error"),
        pl.lit("approved").alias("plan_state"),
        pl.lit(1).alias("scored_version"),
        pl.col("consensus").alias("demand_review"),
        pl.col("consensus").alias("executive"),
    ).select(pl.col(name).cast(dtype) for name, dtype in PLAN_VS_ACTUAL_SCHEMA.items())


def test_plan_vs_actual_has_one_row_per_closed_month_of_each_earlier_plan(pva):
    assert pva.schema == pl.Schema(PLAN_VS_ACTUAL_SCHEMA)
    assert pva.select("plan_cycle", "sku", "month", "lag").rows() == [
        (FEB, "A", FEB, 1),
        (FEB, "A", MAR, 2),
        (FEB, "B", FEB, 1),
        (FEB, "B", MAR, 2),
        (FEB, "C", FEB, 1),
        (MAR, "A", MAR, 1),
        (MAR, "B", MAR, 1),
        (MAR, "C", MAR, 1),
    ]


def test_months_and_plans_from_the_cycle_on_are_ignored(pva):
    assert pva["month"].max() < CYCLE
    assert APR not in pva["plan_cycle"].to_list()
    # A's 100 April units never reach an actual or a naive value.
    assert 100.0 not in pva["actual"].to_list() + pva["naive"].to_list()


def test_lag_counts_months_from_the_plan_cycle_across_a_year_end():
    plans = pl.DataFrame(
        {
            "plan_cycle": [date(2024, 11, 1)] * 4,
            "sku": ["A"] * 4,
            "month": [date(2024, 11, 1), DEC, JAN, FEB],
            "forecast": [1.0] * 4,
            "consensus": [1.0] * 4,
        }
    )
    assert plan_vs_actual(plans, HISTORY, CYCLE)["lag"].to_list() == [1, 2, 3, 4]


def test_actual_sums_the_channels_and_is_zero_where_the_fact_base_has_no_row(pva):
    assert _row(pva, plan_cycle=FEB, sku="A", month=FEB)["actual"] == 12.0  # web 7 + store 5
    march_c = _row(pva, plan_cycle=MAR, sku="C", month=MAR)
    assert march_c["actual"] == 0.0
    assert march_c["is_stockout"] is False
    assert march_c["forecast_error"] == 4.0
    assert march_c["consensus_error"] == 1.0


def test_stockout_flag_follows_the_fact_base(pva):
    assert pva.filter("is_stockout").select("plan_cycle", "sku", "month").rows() == [(FEB, "B", MAR), (MAR, "B", MAR)]


def test_naive_is_the_month_before_the_plan_cycle(pva):
    # February plan: January's 10 units (6 + 4), not December's 20 nor February's 12; March plan: February's 12.
    assert _row(pva, plan_cycle=FEB, sku="A", month=MAR)["naive"] == 10.0
    assert _row(pva, plan_cycle=MAR, sku="A", month=MAR)["naive"] == 12.0
    assert _row(pva, plan_cycle=MAR, sku="C", month=MAR)["naive"] == 3.0


def test_naive_is_null_for_a_sku_without_history_before_the_plan(pva):
    assert _row(pva, plan_cycle=FEB, sku="C", month=FEB)["naive"] is None


def test_naive_replaces_a_stockout_month_by_its_estimated_demand(pva):
    # B sold 2 units in January while out of stock; December's uncensored 6 is the demand estimate,
    # as in the forecast module's naive candidate.
    assert _row(pva, plan_cycle=FEB, sku="B", month=FEB)["naive"] == 6.0


def test_family_and_segment_come_from_products_and_are_null_when_unknown(pva):
    assert _row(pva, plan_cycle=FEB, sku="B", month=FEB)["family"] == "Soaps"
    assert _row(pva, plan_cycle=FEB, sku="A", month=FEB)["segment"] == "AX"
    unknown = _row(pva, plan_cycle=FEB, sku="C", month=FEB)
    assert (unknown["family"], unknown["segment"]) == (None, None)
    without = plan_vs_actual(PLANS, HISTORY, CYCLE)
    assert without["family"].null_count() == without["segment"].null_count() == without.height == 8


def test_two_versions_of_one_plan_are_refused():
    with pytest.raises(ValueError, match="one row per plan_cycle"):
        plan_vs_actual(pl.concat([PLANS, PLANS.head(1)]), HISTORY, CYCLE)


def test_scorecard_scores_every_step_on_the_rows_with_a_naive_value(scorecard):
    # February plan, lag 1: A (actual 12, naive 10, forecast 10, consensus 11) and B (8, 6, 7, 5).
    # C has no naive value, so it is scored by no step (with it, the forecast WMAPE would be 4/23).
    row = _row(scorecard, plan_cycle=FEB, segment_type="total", lag=1)
    assert row["n_scored"] == 2
    assert row["actual"] == 20.0
    assert row["wmape_naive"] == pytest.approx(4 / 20)
    assert row["wmape_forecast"] == pytest.approx(3 / 20)
    assert row["wmape_consensus"] == pytest.approx(4 / 20)
    assert row["bias_forecast"] == pytest.approx(-3 / 20)
    assert row["bias_consensus"] == pytest.approx(-4 / 20)
    assert row["fva_forecast_vs_naive"] == pytest.approx(0.05)
    assert row["fva_consensus_vs_forecast"] == pytest.approx(-0.05)
    assert row["fva_consensus_vs_naive"] == pytest.approx(0.0)


def test_scorecard_leaves_out_stockout_months(scorecard):
    # February plan, lag 2: B's March is a stockout, only A (actual 9, every step 10) is scored.
    row = _row(scorecard, plan_cycle=FEB, segment_type="total", lag=2)
    assert (row["n_scored"], row["actual"]) == (1, 9.0)
    assert row["wmape_forecast"] == pytest.approx(1 / 9)
    # Soaps has no other row in that month: the group is absent rather than scored on censored demand.
    assert scorecard.filter(plan_cycle=FEB, segment="Soaps", lag=2).is_empty()
    # March plan: A (9; naive 12, forecast 8, consensus 9) and C (0; 3, 4, 1); B is a stockout.
    march = _row(scorecard, plan_cycle=MAR, segment_type="total", lag=1)
    assert march["n_scored"] == 2
    assert (march["wmape_naive"], march["wmape_forecast"], march["wmape_consensus"]) == pytest.approx(
        (6 / 9, 5 / 9, 1 / 9)
    )


def test_fva_of_consensus_is_positive_when_the_override_moves_toward_the_actual(scorecard):
    # A: forecast 10, consensus 11, actual 12 (toward); B: forecast 7, consensus 5, actual 8 (away).
    candles = _row(scorecard, plan_cycle=FEB, segment_type="family", segment="Candles", lag=1)
    soaps = _row(scorecard, plan_cycle=FEB, segment_type="family", segment="Soaps", lag=1)
    assert candles["fva_consensus_vs_forecast"] == pytest.approx(2 / 12 - 1 / 12)
    assert soaps["fva_consensus_vs_forecast"] == pytest.approx(1 / 8 - 3 / 8)


def test_scorecard_has_total_family_and_abc_xyz_views_and_skips_unknown_segments(scorecard):
    assert scorecard.schema == pl.Schema(PLAN_ACCURACY_SCHEMA)
    feb_lag1 = scorecard.filter(plan_cycle=FEB, lag=1).select("segment_type", "segment", "n_scored").rows()
    assert feb_lag1 == [
        ("abc_xyz", "AX", 1),
        ("abc_xyz", "CZ", 1),
        ("family", "Candles", 1),
        ("family", "Soaps", 1),
        ("total", "total", 2),
    ]
    cz = _row(scorecard, plan_cycle=FEB, segment_type="abc_xyz", segment="CZ", lag=1)
    assert cz["wmape_consensus"] == pytest.approx(3 / 8)
    # C (no family, no segment) counts in the March total only.
    assert scorecard.filter(plan_cycle=MAR).select("segment_type", "segment").rows() == [
        ("abc_xyz", "AX"),
        ("family", "Candles"),
        ("total", "total"),
    ]


def test_scorecard_is_sorted_by_plan_cycle_segment_and_lag(scorecard):
    keys = scorecard.select("plan_cycle", "segment_type", "segment", "lag").rows()
    assert keys == sorted(keys)
    assert scorecard["plan_cycle"].unique().sort().to_list() == [FEB, MAR]


def test_wmape_and_bias_are_null_when_no_actual_demand_was_scored():
    pva = _pva(
        [
            ("A", "Candles", 1, 10.0, False, 8.0, 9.0, 10.0),
            ("B", "Soaps", 1, 0.0, False, 2.0, 1.0, 3.0),
        ]
    )
    scorecard = plan_accuracy(pva)
    soaps = _row(scorecard, segment_type="family", segment="Soaps")
    for column in ("wmape_naive", "wmape_forecast", "wmape_consensus", "bias_forecast", "bias_consensus"):
        assert soaps[column] is None, column
    assert soaps["fva_consensus_vs_forecast"] is None
    assert soaps["n_scored"] == 1
    total = _row(scorecard, segment_type="total")
    assert total["wmape_consensus"] == pytest.approx(3 / 10)  # B's errors still count against A's demand


def test_plan_accuracy_of_an_empty_table_is_an_empty_scorecard():
    empty = plan_accuracy(pl.DataFrame(schema=PLAN_VS_ACTUAL_SCHEMA))
    assert empty.is_empty()
    assert empty.schema == pl.Schema(PLAN_ACCURACY_SCHEMA)


def test_override_value_added_pools_the_touched_non_stockout_sku_months(pva):
    # Touched: A Feb (forecast error −2, consensus −1), B Feb (−1, −3), A Mar of the March plan (−1, 0),
    # C Mar (4, 1). Untouched rows and B's stockout months (one of them touched) do not count.
    result = override_value_added(pva)
    assert result.schema == pl.Schema(OVERRIDE_VALUE_SCHEMA)
    row = result.row(0, named=True)
    assert row["n_touched"] == 4
    assert row["actual"] == 29.0
    assert row["wmape_forecast"] == pytest.approx(8 / 29)
    assert row["wmape_consensus"] == pytest.approx(5 / 29)
    assert row["fva_consensus_vs_forecast"] == pytest.approx(3 / 29)
    assert row["share_improved"] == pytest.approx(3 / 4)


def test_override_value_added_counts_a_tie_as_not_improved():
    # Forecast 8 and consensus 12 both miss the actual 10 by 2.
    row = override_value_added(_pva([("A", "Candles", 1, 10.0, False, 9.0, 8.0, 12.0)])).row(0, named=True)
    assert (row["n_touched"], row["share_improved"], row["fva_consensus_vs_forecast"]) == (1, 0.0, 0.0)


def test_override_value_added_without_overrides_is_one_row_of_nulls():
    result = override_value_added(_pva([("A", "Candles", 1, 10.0, False, 9.0, 8.0, 8.0)]))
    assert result.height == 1
    row = result.row(0, named=True)
    assert row["n_touched"] == 0
    assert row["wmape_forecast"] is None and row["share_improved"] is None


_MONTHS = [date(2025, m, 1) for m in range(1, 7)]


@st.composite
def _cycle_data(draw) -> tuple[pl.DataFrame, pl.DataFrame]:
    skus = ["A", "B", "C"]
    history = pl.DataFrame(
        {
            "sku": [s for s in skus for _ in _MONTHS],
            "channel": "web",
            "month": _MONTHS * len(skus),
            "units": draw(st.lists(st.integers(0, 20), min_size=18, max_size=18)),
            "is_stockout": draw(st.lists(st.booleans(), min_size=18, max_size=18)),
        }
    )
    keys = [(p, s, m) for p in _MONTHS[1:] for s in skus for m in _MONTHS if m >= p]
    forecasts = draw(st.lists(st.floats(0, 30), min_size=len(keys), max_size=len(keys)))
    plans = pl.DataFrame(
        {
            "plan_cycle": [k[0] for k in keys],
            "sku": [k[1] for k in keys],
            "month": [k[2] for k in keys],
            "forecast": forecasts,
        }
    )
    return history, plans


@settings(max_examples=30, deadline=None)
@given(_cycle_data())
def test_a_consensus_equal_to_the_forecast_adds_no_value(data):
    history, plans = data
    pva = plan_vs_actual(plans.with_columns(pl.col("forecast").alias("consensus")), history, date(2025, 7, 1))
    fva = plan_accuracy(pva)["fva_consensus_vs_forecast"].drop_nulls()
    assert (fva == 0).all()
    assert override_value_added(pva)["n_touched"].item() == 0


@settings(max_examples=30, deadline=None)
@given(_cycle_data())
def test_a_consensus_halfway_to_the_actual_never_destroys_value(data):
    history, plans = data
    cycle = date(2025, 7, 1)
    actual = plan_vs_actual(plans.with_columns(pl.col("forecast").alias("consensus")), history, cycle)
    halfway = actual.select(
        "plan_cycle", "sku", "month", "forecast", ((pl.col("forecast") + pl.col("actual")) / 2).alias("consensus")
    )
    fva = plan_accuracy(plan_vs_actual(halfway, history, cycle))["fva_consensus_vs_forecast"].drop_nulls()
    assert (fva >= -1e-12).all()


# D's February sales are unknown (null units on both channels, `is_missing` in the fact base), not zero.
GAPPY_HISTORY = pl.DataFrame(
    [
        ("D", "web", JAN, 6, False),
        ("D", "store", JAN, 4, False),
        ("D", "web", FEB, None, False),
        ("D", "store", FEB, None, False),
        ("D", "web", MAR, 7, False),
    ],
    schema={"sku": pl.String, "channel": pl.String, "month": pl.Date, "units": pl.Int64, "is_stockout": pl.Boolean},
    orient="row",
)
GAPPY_PLANS = pl.DataFrame(
    [(FEB, "D", FEB, 9.0, 9.0), (FEB, "D", MAR, 9.0, 9.0), (MAR, "D", MAR, 8.0, 8.0)],
    schema={"plan_cycle": pl.Date, "sku": pl.String, "month": pl.Date, "forecast": pl.Float64, "consensus": pl.Float64},
    orient="row",
)


def test_a_month_whose_sales_are_unknown_is_not_scored_as_zero_sales():
    scored = plan_vs_actual(GAPPY_PLANS, GAPPY_HISTORY, CYCLE)
    # February has no actual: no row. March is known: 7 units on one channel.
    assert scored.select("plan_cycle", "month", "actual").rows() == [(FEB, MAR, 7.0), (MAR, MAR, 7.0)]
    # The February plan's naive is January (6 + 4). The March plan's reads the unknown February: never a
    # zero, but the forecast history's estimate from its known neighbours before March, January's 10.
    assert scored.filter(pl.col("plan_cycle") == FEB)["naive"].to_list() == [10.0]
    assert scored.filter(pl.col("plan_cycle") == MAR)["naive"].to_list() == [10.0]
    accuracy = plan_accuracy(scored).filter((pl.col("segment_type") == "total") & (pl.col("plan_cycle") == FEB))
    # The February plan is scored on March alone: |9 − 7| / 7.
    assert accuracy.select("lag", "n_scored", "actual").rows() == [(2, 1, 7.0)]
    assert accuracy["wmape_forecast"][0] == pytest.approx(2 / 7)


def _stages(forecast: list[float], demand_review: list[float], executive: list[float | None],
            state: str = "approved") -> pl.DataFrame:
    """Six SKUs of one family that each sold 10 units in the plan cycle's own month, naive 12 for all."""
    n = len(forecast)
    pva = _pva([(f"S{i}", "Candles", 1, 10.0, False, 12.0, forecast[i], demand_review[i]) for i in range(n)])
    return pva.with_columns(pl.Series("executive", executive, dtype=pl.Float64), pl.lit(state).alias("plan_state"))


def test_each_meeting_is_scored_as_a_stage_and_one_that_made_every_sku_worse_is_flagged():
    # Errors per SKU: naive 2, forecast 1, demand review 4, executive 3; 60 units sold.
    scorecard = plan_accuracy(_stages([11.0] * 6, [14.0] * 6, [13.0] * 6))
    total = _row(scorecard, segment_type="total")
    assert (total["wmape_naive"], total["wmape_forecast"]) == (pytest.approx(12 / 60), pytest.approx(6 / 60))
    assert (total["wmape_demand_review"], total["wmape_executive"]) == (pytest.approx(24 / 60), pytest.approx(18 / 60))
    assert total["fva_demand_review_vs_forecast"] == pytest.approx(-18 / 60)
    assert total["fva_executive_vs_demand_review"] == pytest.approx(6 / 60)
    # Every SKU lost the same 3 units in the demand review: any resample says so, the interval is a point.
    assert total["fva_demand_review_vs_forecast_high"] == pytest.approx(-18 / 60)
    assert (total["forecast_worse"], total["demand_review_worse"], total["executive_worse"]) == (False, True, False)
    assert (total["plan_state"], total["scored_version"]) == ("approved", 1)


def test_a_stage_worse_on_average_but_not_beyond_noise_is_not_flagged():
    # The demand review is right on five SKUs and 14 units off on the sixth: worse in total (14 vs 6 units of
    # error), but a resample without that SKU shows a gain, so the interval straddles 0.
    scorecard = plan_accuracy(_stages([11.0] * 6, [10.0] * 5 + [24.0], [10.0] * 5 + [24.0]))
    total = _row(scorecard, segment_type="total")
    assert total["fva_demand_review_vs_forecast"] == pytest.approx((6 - 14) / 60)
    assert total["fva_demand_review_vs_forecast_low"] < 0 < total["fva_demand_review_vs_forecast_high"]
    assert total["demand_review_worse"] is False


def test_a_draft_plan_has_no_executive_stage_to_score():
    scorecard = plan_accuracy(_stages([11.0] * 6, [14.0] * 6, [None] * 6, state="draft"))
    total = _row(scorecard, segment_type="total")
    assert total["plan_state"] == "draft"
    assert total["wmape_executive"] is None and total["fva_executive_vs_demand_review"] is None
    assert total["executive_worse"] is None and total["demand_review_worse"] is True
