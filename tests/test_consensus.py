"""Consensus demand plan: events, overrides, bands and fences, computed by hand on tiny frames, then as properties."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.forecast.backtest import BACKTEST_SCHEMA
from sop_pipeline.forecast.events import EVENT_UPLIFT_SCHEMA, channel_shares, monthly_event_uplift
from sop_pipeline.plan.consensus import (
    CONSENSUS_SCHEMA,
    DEMAND_PLAN_SCHEMA,
    OVERRIDES_SCHEMA,
    apply_consensus,
    build_demand_plan,
    consensus_backtest,
    unapplied_overrides,
)

CYCLE = date(2026, 1, 1)
JAN, FEB, MAR, APR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
PRODUCTS = pl.DataFrame({"sku": ["a", "b", "c", "d"], "family": ["Candles", "Candles", "Candles", "Soaps"]})
NO_UPLIFT = pl.DataFrame(schema=EVENT_UPLIFT_SCHEMA)
NO_OVERRIDES = pl.DataFrame(schema=OVERRIDES_SCHEMA)


def _base(rows, month=JAN, method="naive") -> pl.DataFrame:
    """`rows`: {sku: forecast}, all in one month."""
    return pl.DataFrame({
        "sku": list(rows), "month": [month] * len(rows), "method": [method] * len(rows),
        "forecast": [float(v) for v in rows.values()],
    })


def _overrides(*rows) -> pl.DataFrame:
    """Each row: (cycle, sku, family, month, quantity, percent); reason and owner derived from the target."""
    return pl.DataFrame(
        [(*row, f"why {row[1] or row[2]}", f"owner {row[1] or row[2]}") for row in rows],
        schema=OVERRIDES_SCHEMA, orient="row",
    )


def _by_sku(frame: pl.DataFrame, column: str) -> dict:
    return dict(frame.select("sku", column).iter_rows())


# --- channel shares ----------------------------------------------------------------------------------------


def test_channel_shares_use_the_twelve_months_before_the_cycle_else_the_whole_history():
    history = pl.DataFrame(
        [
            ("a", "DTC", date(2024, 12, 1), 1000.0),  # 13 months before the cycle: outside the window
            ("a", "DTC", date(2025, 1, 1), 30.0),  # first month of the window
            ("a", "Retail", date(2025, 12, 1), 90.0),
            ("a", "Retail", date(2026, 1, 1), 5000.0),  # the cycle's own month: not known yet
            ("b", "DTC", date(2024, 6, 1), 10.0),  # only old history: the whole history counts
            ("b", "Retail", date(2024, 7, 1), 30.0),
            ("b", "DTC", date(2025, 6, 1), 0.0),
            ("c", "DTC", date(2025, 6, 1), 0.0),  # never sold: absent
        ],
        schema={"sku": pl.String, "channel": pl.String, "month": pl.Date, "units": pl.Float64}, orient="row",
    )
    shares = channel_shares(history, CYCLE)
    assert shares.schema == {"sku": pl.String, "channel": pl.String, "share": pl.Float64}
    # b's whole history: DTC 10 + 0, Retail 30.
    assert shares.rows() == [("a", "DTC", 0.25), ("a", "Retail", 0.75), ("b", "DTC", 0.25), ("b", "Retail", 0.75)]


def test_channel_share_window_length_is_configurable():
    history = pl.DataFrame({
        "sku": ["a", "a"], "channel": ["DTC", "Retail"], "month": [date(2025, 12, 1), date(2025, 10, 1)],
        "units": [10.0, 30.0],
    })
    assert channel_shares(history, CYCLE, months=2).rows() == [("a", "DTC", 1.0)]
    assert channel_shares(history, CYCLE, months=3).rows() == [("a", "DTC", 0.25), ("a", "Retail", 0.75)]


# --- event uplift ------------------------------------------------------------------------------------------

SHARES = pl.DataFrame({
    "sku": ["a", "a", "b"], "channel": ["DTC", "Retail", "Retail"], "share": [0.25, 0.75, 1.0],
})


def _events(*rows) -> pl.DataFrame:
    """Each row: (event_id, sku, family, channel, start_date, end_date, uplift_pct)."""
    return pl.DataFrame(
        [(row[0], "promotion", *row[1:]) for row in rows],
        schema={
            "event_id": pl.String, "event_type": pl.String, "sku": pl.String, "family": pl.String,
            "channel": pl.String, "start_date": pl.Date, "end_date": pl.Date, "uplift_pct": pl.Float64,
        },
        orient="row",
    )


def test_a_channel_event_is_weighted_by_the_skus_share_of_that_channel():
    events = _events(("EV-1", "a", None, "DTC", date(2026, 1, 10), date(2026, 1, 20), 0.40))
    uplift = monthly_event_uplift(events, PRODUCTS, SHARES, [JAN, FEB])
    assert uplift.schema == EVENT_UPLIFT_SCHEMA
    assert uplift.rows() == [("a", JAN, pytest.approx(0.10), "EV-1")]


def test_a_family_event_applies_to_every_sku_of_the_family_and_only_those():
    events = _events(("EV-F", None, "Candles", None, date(2026, 2, 1), date(2026, 2, 28), 0.20))
    uplift = monthly_event_uplift(events, PRODUCTS, SHARES, [JAN, FEB])
    assert uplift.rows() == [("a", FEB, 0.2, "EV-F"), ("b", FEB, 0.2, "EV-F"), ("c", FEB, 0.2, "EV-F")]


def test_an_event_counts_in_every_month_it_overlaps_and_only_in_the_requested_months():
    events = _events(
        ("EV-1", "d", None, None, date(2026, 1, 31), date(2026, 2, 1), 0.1),  # two days over two months
        ("EV-2", "d", None, None, date(2026, 3, 1), date(2026, 3, 31), 0.3),  # ends before April
        ("EV-3", "d", None, None, date(2026, 5, 1), date(2026, 5, 2), 0.5),  # May is not asked for
    )
    uplift = monthly_event_uplift(events, PRODUCTS, SHARES, [JAN, FEB, MAR, APR])
    assert uplift.select("month", "uplift", "event_ids").rows() == [
        (JAN, 0.1, "EV-1"), (FEB, 0.1, "EV-1"), (MAR, 0.3, "EV-2"),
    ]


def test_uplifts_of_events_in_the_same_month_add_up_and_their_ids_are_sorted():
    events = _events(
        ("EV-9", None, "Candles", None, date(2026, 1, 1), date(2026, 1, 31), 0.20),
        ("EV-1", "a", None, "Retail", date(2026, 1, 5), date(2026, 1, 6), 0.40),  # 0.75 × 0.40 = 0.30
    )
    uplift = monthly_event_uplift(events, PRODUCTS, SHARES, [JAN]).filter(pl.col("sku") == "a")
    assert uplift.rows() == [("a", JAN, pytest.approx(0.50), "EV-1, EV-9")]


def test_a_channel_event_gives_one_nth_to_a_sku_without_history_and_nothing_to_a_sku_not_in_that_channel():
    events = _events(("EV-D", None, "Candles", "DTC", date(2026, 1, 1), date(2026, 1, 31), 0.40))
    uplift = monthly_event_uplift(events, PRODUCTS, SHARES, [JAN])
    # a sells 25 % DTC; b sells only Retail; c has no history: 1/2 of the two channels in `shares`.
    assert uplift.select("sku", "uplift").rows() == [("a", pytest.approx(0.10)), ("c", pytest.approx(0.20))]
    no_shares = monthly_event_uplift(events, PRODUCTS, SHARES.clear(), [JAN])
    assert no_shares.select("sku", "uplift").rows() == [("a", 0.4), ("b", 0.4), ("c", 0.4)]


def test_no_events_give_an_empty_uplift_frame_with_its_schema():
    empty = monthly_event_uplift(_events(), PRODUCTS, SHARES, [JAN])
    assert empty.is_empty() and empty.schema == EVENT_UPLIFT_SCHEMA


# --- consensus rule ----------------------------------------------------------------------------------------


def _uplift(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=EVENT_UPLIFT_SCHEMA, orient="row")


def test_event_uplift_is_added_in_units_but_not_to_a_method_that_already_sees_events():
    base = pl.concat([_base({"a": 100}), _base({"b": 100}, method="lightgbm")])
    uplift = _uplift(("a", JAN, 0.1, "EV-1"), ("b", JAN, 0.1, "EV-1"))
    result = apply_consensus(base, CYCLE, PRODUCTS, uplift, NO_OVERRIDES)
    assert result.columns == [*base.columns, *CONSENSUS_SCHEMA]
    assert _by_sku(result, "event_uplift") == {"a": 10.0, "b": 0.0}
    assert _by_sku(result, "consensus") == {"a": 110.0, "b": 100.0}
    assert _by_sku(result, "event_ids") == {"a": "EV-1", "b": "EV-1"}  # still shown: it explains the model
    assert _by_sku(result, "override_units") == {"a": 0.0, "b": 0.0}
    assert result["override_type"].null_count() == 2


def test_negative_events_never_take_demand_below_zero():
    result = apply_consensus(_base({"a": 50}), CYCLE, PRODUCTS, _uplift(("a", JAN, -1.3, "EV-1, EV-2")), NO_OVERRIDES)
    assert result.select("event_uplift", "consensus").row(0) == (-50.0, 0.0)


def test_a_percent_override_applies_after_events_and_a_sku_quantity_replaces_the_number():
    base = _base({"a": 100, "b": 100})
    uplift = _uplift(("a", JAN, 0.1, "EV-1"), ("b", JAN, 0.1, "EV-1"))
    overrides = _overrides((CYCLE, "a", None, JAN, None, 0.5), (CYCLE, "b", None, JAN, 80.0, None))
    result = apply_consensus(base, CYCLE, PRODUCTS, uplift, overrides)
    assert _by_sku(result, "consensus") == {"a": pytest.approx(165.0), "b": 80.0}
    assert _by_sku(result, "override_units") == {"a": pytest.approx(55.0), "b": -30.0}
    assert _by_sku(result, "override_type") == {"a": "percent", "b": "quantity"}
    assert _by_sku(result, "override_level") == {"a": "sku", "b": "sku"}
    assert _by_sku(result, "override_reason") == {"a": "why a", "b": "why b"}
    assert _by_sku(result, "override_owner") == {"a": "owner a", "b": "owner b"}


def test_a_sku_override_beats_its_familys_override():
    overrides = _overrides((CYCLE, None, "Candles", JAN, None, 1.0), (CYCLE, "a", None, JAN, 5.0, None))
    result = apply_consensus(_base({"a": 10, "b": 10, "d": 10}), CYCLE, PRODUCTS, NO_UPLIFT, overrides)
    assert _by_sku(result, "consensus") == {"a": 5.0, "b": 20.0, "d": 10.0}
    assert _by_sku(result, "override_level") == {"a": "sku", "b": "family", "d": None}
    assert _by_sku(result, "override_reason") == {"a": "why a", "b": "why Candles", "d": None}


def test_a_family_quantity_is_spread_over_the_skus_not_overridden_in_proportion_to_their_forecast():
    # c has its own number; the family's 80 go to a and b, 10 : 30.
    overrides = _overrides((CYCLE, None, "Candles", JAN, 80.0, None), (CYCLE, "c", None, JAN, 7.0, None))
    result = apply_consensus(_base({"a": 10, "b": 30, "c": 50, "d": 5}), CYCLE, PRODUCTS, NO_UPLIFT, overrides)
    assert _by_sku(result, "consensus") == {"a": 20.0, "b": 60.0, "c": 7.0, "d": 5.0}
    assert _by_sku(result, "override_units") == {"a": 10.0, "b": 30.0, "c": -43.0, "d": 0.0}
    assert _by_sku(result, "override_type") == {"a": "quantity", "b": "quantity", "c": "quantity", "d": None}


def test_a_family_quantity_is_spread_in_proportion_to_the_forecast_after_events():
    # a: 10 + 100 % event = 20, b: 20; equal weights.
    overrides = _overrides((CYCLE, None, "Candles", JAN, 80.0, None))
    result = apply_consensus(_base({"a": 10, "b": 20}), CYCLE, PRODUCTS, _uplift(("a", JAN, 1.0, "EV-1")), overrides)
    assert _by_sku(result, "consensus") == {"a": 40.0, "b": 40.0}
    assert _by_sku(result, "override_units") == {"a": 20.0, "b": 20.0}


def test_a_family_quantity_is_spread_equally_when_every_forecast_is_zero():
    overrides = _overrides((CYCLE, None, "Candles", JAN, 90.0, None))
    result = apply_consensus(_base({"a": 0, "b": 0, "c": 0}), CYCLE, PRODUCTS, NO_UPLIFT, overrides)
    assert _by_sku(result, "consensus") == {"a": 30.0, "b": 30.0, "c": 30.0}


def test_a_family_quantity_is_spread_month_by_month():
    base = pl.concat([_base({"a": 10, "b": 30}), _base({"a": 30, "b": 10}, month=FEB)])
    overrides = _overrides((CYCLE, None, "Candles", JAN, 80.0, None), (CYCLE, None, "Candles", FEB, 8.0, None))
    result = apply_consensus(base, CYCLE, PRODUCTS, NO_UPLIFT, overrides)
    assert result.select("sku", "month", "consensus").rows() == [
        ("a", JAN, 20.0), ("a", FEB, 6.0), ("b", JAN, 60.0), ("b", FEB, 2.0),
    ]


def test_only_the_overrides_of_the_cycle_apply():
    overrides = _overrides(
        (date(2025, 12, 1), "a", None, JAN, 999.0, None),
        (date(2026, 2, 1), None, "Candles", JAN, None, 1.0),
        (CYCLE, "b", None, JAN, None, -1.0),
    )
    result = apply_consensus(_base({"a": 10, "b": 10}), CYCLE, PRODUCTS, NO_UPLIFT, overrides)
    assert _by_sku(result, "consensus") == {"a": 10.0, "b": 0.0}
    assert _by_sku(result, "override_type") == {"a": None, "b": "percent"}


def test_consensus_output_is_sorted_and_one_row_per_sku_and_month_is_required():
    base = pl.concat([_base({"b": 1, "a": 2}, month=FEB), _base({"b": 3, "a": 4})])
    result = apply_consensus(base, CYCLE, PRODUCTS, NO_UPLIFT, NO_OVERRIDES)
    assert result.select("sku", "month").rows() == [("a", JAN), ("a", FEB), ("b", JAN), ("b", FEB)]
    with pytest.raises(ValueError, match="one row per"):
        apply_consensus(pl.concat([base, base]), CYCLE, PRODUCTS, NO_UPLIFT, NO_OVERRIDES)


# --- unapplied overrides -----------------------------------------------------------------------------------


def test_unapplied_overrides_are_the_cycles_overrides_that_changed_nothing_with_the_reason():
    base = pl.concat([_base({"a": 10, "b": 10, "d": 10}), _base({"a": 10, "b": 10}, month=FEB)])
    overrides = _overrides(
        (CYCLE, "a", None, JAN, 5.0, None),  # applied
        (CYCLE, "a", None, date(2027, 6, 1), 5.0, None),  # beyond the horizon
        (CYCLE, "c", None, JAN, 5.0, None),  # c is not in the plan
        (CYCLE, None, "Soaps", FEB, None, 0.2),  # d has no February
        (CYCLE, None, "Candles", FEB, 100.0, None),  # applied to a and b
        (CYCLE, "a", None, FEB, 1.0, None),
        (CYCLE, "b", None, FEB, 1.0, None),
        (date(2025, 12, 1), "c", None, JAN, 5.0, None),  # another cycle: not this cycle's business
    )
    unapplied = unapplied_overrides(base, CYCLE, PRODUCTS, overrides)
    assert unapplied.select("sku", "family", "month", "unapplied_because").rows() == [
        ("a", None, date(2027, 6, 1), "month outside the plan's horizon"),
        ("c", None, JAN, "SKU not in the plan that month"),
        (None, "Candles", FEB, "every SKU of the family that month has a SKU-level override"),
        (None, "Soaps", FEB, "no SKU of the family in the plan that month"),
    ]
    assert unapplied.columns == [*OVERRIDES_SCHEMA, "unapplied_because"]


# --- demand plan -------------------------------------------------------------------------------------------


def _forecast(rows) -> pl.DataFrame:
    """Each row: (sku, month, p10, p50, p90)."""
    return pl.DataFrame(
        [(sku, month, "statistical", "theta", p10, p50, p90) for sku, month, p10, p50, p90 in rows],
        schema={
            "sku": pl.String, "month": pl.Date, "step": pl.String, "method": pl.String,
            "p10": pl.Float64, "p50": pl.Float64, "p90": pl.Float64,
        },
        orient="row",
    )


def _calendar(fences: dict) -> pl.DataFrame:
    """`marts.dim_calendar`'s `month, time_fence`, written out by hand."""
    return pl.DataFrame({"month": list(fences), "time_fence": list(fences.values())},
                        schema={"month": pl.Date, "time_fence": pl.String})


# dim_calendar of cycle January with frozen_months=1, flexible_months=3: horizon month 1 frozen, months 2..3
# flexible, later ones strategic (December is history).
CALENDAR = _calendar({date(2025, 12, 1): "history", JAN: "frozen", FEB: "flexible", MAR: "flexible",
                      APR: "strategic"})


def _plan(forecast, overrides=NO_OVERRIDES, previous=None, uplift=NO_UPLIFT, calendar=CALENDAR, **kwargs):
    return build_demand_plan(
        forecast, CYCLE, PRODUCTS, uplift, overrides, calendar, previous_plan=previous, **kwargs,
    )


def test_demand_plan_has_its_schema_family_horizon_month_and_fence():
    months = [JAN, FEB, MAR, APR]
    plan = _plan(_forecast([("a", m, 1.0, 2.0, 3.0) for m in reversed(months)]))
    assert plan.schema == pl.Schema(DEMAND_PLAN_SCHEMA)
    assert plan.select("month", "horizon_month", "time_fence").rows() == [
        (JAN, 1, "frozen"), (FEB, 2, "flexible"), (MAR, 3, "flexible"), (APR, 4, "strategic"),
    ]
    assert plan.select("family", "step", "method", "forecast").unique().rows() == [
        ("Candles", "statistical", "theta", 2.0),
    ]


def test_the_plan_takes_each_months_fence_from_the_calendar_not_from_its_horizon_month():
    # A calendar no horizon arithmetic gives: whatever the fact base says is the fence.
    calendar = _calendar({JAN: "flexible", FEB: "frozen", MAR: "strategic", APR: "frozen"})
    plan = _plan(_forecast([("a", m, 1.0, 2.0, 3.0) for m in (JAN, FEB, MAR, APR)]), calendar=calendar)
    assert plan["time_fence"].to_list() == ["flexible", "frozen", "strategic", "frozen"]


@pytest.mark.parametrize(
    "calendar",
    [_calendar({JAN: "frozen"}), _calendar({JAN: "frozen", FEB: "history"})],
    ids=["month missing", "month in history"],
)
def test_a_planned_month_the_calendar_does_not_fence_is_an_error(calendar):
    with pytest.raises(ValueError, match="no horizon fence for planned month.*2026-02-01"):
        _plan(_forecast([("a", JAN, 1.0, 2.0, 3.0), ("a", FEB, 1.0, 2.0, 3.0)]), calendar=calendar)


def test_a_calendar_giving_a_month_two_fences_is_an_error():
    calendar = pl.concat([_calendar({JAN: "frozen"}), _calendar({JAN: "flexible"})])
    with pytest.raises(ValueError, match="calendar must have one row per month"):
        _plan(_forecast([("a", JAN, 1.0, 2.0, 3.0)]), calendar=calendar)


def test_a_forecast_month_before_the_cycle_is_an_error():
    with pytest.raises(ValueError, match="before the cycle"):
        _plan(_forecast([("a", date(2025, 12, 1), 1.0, 2.0, 3.0)]))


def test_the_band_is_scaled_with_the_consensus_when_the_forecast_is_positive():
    overrides = _overrides((CYCLE, "a", None, JAN, None, 0.5), (CYCLE, "b", None, JAN, None, -0.5))
    plan = _plan(_forecast([("a", JAN, 80.0, 100.0, 130.0), ("b", JAN, 80.0, 100.0, 130.0)]), overrides)
    assert plan.select("sku", "p10", "consensus", "p90").rows() == [("a", 120.0, 150.0, 195.0), ("b", 40.0, 50.0, 65.0)]


def test_the_band_is_shifted_when_the_forecast_is_zero():
    overrides = _overrides((CYCLE, "a", None, JAN, 10.0, None))
    plan = _plan(_forecast([("a", JAN, 0.0, 0.0, 5.0), ("b", JAN, 0.0, 0.0, 5.0)]), overrides)
    assert plan.select("sku", "p10", "consensus", "p90").rows() == [("a", 10.0, 10.0, 15.0), ("b", 0.0, 0.0, 5.0)]


def test_the_band_never_leaves_zero_or_crosses_the_consensus_even_from_a_crossing_forecast_band():
    # A band that does not contain its p50 still yields p10 ≤ consensus ≤ p90.
    overrides = _overrides((CYCLE, "a", None, JAN, None, -1.0))
    plan = _plan(_forecast([("a", JAN, 12.0, 10.0, 8.0), ("b", JAN, 12.0, 10.0, 8.0)]), overrides)
    assert plan.select("sku", "p10", "consensus", "p90").rows() == [("a", 0.0, 0.0, 0.0), ("b", 10.0, 10.0, 10.0)]


@pytest.mark.parametrize(
    ("previous", "consensus", "flagged"),
    [
        (100.0, 110.0, False),  # exactly the 10 % tolerance
        (100.0, 90.0, False),
        (7.0, 7.7, False),  # 7.7 − 7 is 0.7000000000000002 in floats: noise, not a change
        (100.0, 110.25, True),
        (100.0, 89.75, True),
        (2.0, 2.5, False),  # above 10 % but only half a unit
        (2.0, 2.75, True),
        (0.0, 0.5, False),
        (0.0, 0.75, True),
        (50.0, 50.0, False),
    ],
)
def test_a_change_inside_the_frozen_fence_is_flagged_above_the_tolerance_and_half_a_unit(previous, consensus, flagged):
    overrides = _overrides((CYCLE, "a", None, JAN, consensus, None), (CYCLE, "a", None, FEB, consensus, None))
    previous_plan = pl.DataFrame({"sku": ["a", "a"], "month": [JAN, FEB], "consensus": [previous, previous]})
    plan = _plan(_forecast([("a", JAN, 1.0, 1.0, 1.0), ("a", FEB, 1.0, 1.0, 1.0)]), overrides, previous_plan)
    assert plan.select("month", "previous_plan", "change_vs_previous", "is_frozen_change").rows() == [
        (JAN, previous, consensus - previous, flagged),
        (FEB, previous, consensus - previous, False),  # flexible fence: changes are free
    ]


def test_the_frozen_change_flag_follows_the_calendars_fence():
    # With frozen_months=2 the calendar freezes February too, and the same change is flagged there.
    overrides = _overrides((CYCLE, "a", None, JAN, 150.0, None), (CYCLE, "a", None, FEB, 150.0, None),
                           (CYCLE, "a", None, MAR, 150.0, None))
    previous_plan = pl.DataFrame({"sku": ["a"] * 3, "month": [JAN, FEB, MAR], "consensus": [100.0] * 3})
    forecast = _forecast([("a", m, 1.0, 1.0, 1.0) for m in (JAN, FEB, MAR)])
    calendar = _calendar({JAN: "frozen", FEB: "frozen", MAR: "flexible"})
    plan = _plan(forecast, overrides, previous_plan, calendar=calendar)
    assert plan.select("month", "time_fence", "is_frozen_change").rows() == [
        (JAN, "frozen", True), (FEB, "frozen", True), (MAR, "flexible", False),
    ]


def test_the_frozen_tolerance_is_configurable_and_a_month_without_previous_plan_is_never_flagged():
    previous_plan = pl.DataFrame({"sku": ["a"], "month": [JAN], "consensus": [8.0]})
    forecast = _forecast([("a", JAN, 10.0, 10.0, 10.0), ("b", JAN, 10.0, 10.0, 10.0)])
    strict = _plan(forecast, previous=previous_plan)
    loose = _plan(forecast, previous=previous_plan, frozen_tolerance=0.5)
    assert strict.select("sku", "previous_plan", "change_vs_previous", "is_frozen_change").rows() == [
        ("a", 8.0, 2.0, True), ("b", None, None, False),
    ]
    assert loose["is_frozen_change"].to_list() == [False, False]
    assert _plan(forecast)["previous_plan"].null_count() == 2


def test_the_demand_plan_adds_event_uplift_except_for_the_global_model():
    forecast = _forecast([("a", JAN, 80.0, 100.0, 120.0)])
    uplift = _uplift(("a", JAN, 0.2, "EV-1"))
    assert _plan(forecast, uplift=uplift).select("event_uplift", "consensus", "p10", "p90").row(0) == (
        20.0, 120.0, 96.0, 144.0,
    )
    aware = _plan(forecast, uplift=uplift, event_aware_methods=("theta",))
    assert aware.select("event_uplift", "consensus", "event_ids").row(0) == (0.0, 100.0, "EV-1")


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(0, 1e4), st.floats(0, 1e4), st.floats(0, 1e4),
            st.one_of(st.none(), st.floats(-1, 5)),
            st.floats(-0.9, 2),
        ),
        min_size=1, max_size=8,
    )
)
def test_property_consensus_band_is_ordered_and_non_negative(rows):
    skus = [f"s{i}" for i in range(len(rows))]
    bands = [sorted(row[:3]) for row in rows]
    forecast = _forecast([(sku, JAN, *band) for sku, band in zip(skus, bands, strict=True)])
    overrides = _overrides(*[(CYCLE, sku, None, JAN, None, row[3])
                             for sku, row in zip(skus, rows, strict=True) if row[3] is not None])
    uplift = _uplift(*[(sku, JAN, row[4], "EV") for sku, row in zip(skus, rows, strict=True)])
    products = pl.DataFrame({"sku": skus, "family": ["F"] * len(skus)})
    plan = build_demand_plan(forecast, CYCLE, products, uplift, overrides, CALENDAR)
    assert (plan["p10"] >= 0).all()
    assert (plan["p10"] <= plan["consensus"]).all()
    assert (plan["consensus"] <= plan["p90"]).all()


# --- consensus backtest ------------------------------------------------------------------------------------

O1, O2 = date(2025, 11, 1), date(2025, 12, 1)


def _backtest(rows) -> pl.DataFrame:
    """Each row: (sku, origin, month, method, forecast); actual 50, scale 3, 24 months of history."""
    return pl.DataFrame(
        [
            (sku, origin, month, (month.year - origin.year) * 12 + month.month - origin.month + 1, 50.0, False,
             method, forecast, 3.0, 24)
            for sku, origin, month, method, forecast in rows
        ],
        schema=BACKTEST_SCHEMA, orient="row",
    )


def test_the_consensus_backtest_uses_each_origins_own_overrides_and_only_the_chosen_method():
    backtest = _backtest([
        ("a", O1, O2, "naive", 10.0), ("a", O1, O2, "lightgbm", 99.0),
        ("a", O2, O2, "naive", 20.0), ("a", O2, O2, "lightgbm", 99.0),
        ("b", O2, O2, "naive", 30.0), ("b", O2, O2, "lightgbm", 40.0),
        ("c", O2, O2, "naive", 30.0),  # no chosen method
    ])
    chosen = pl.DataFrame({"sku": ["a", "b"], "method": ["naive", "lightgbm"]})
    overrides = _overrides(
        (O1, "a", None, O2, None, 0.5),  # planned at O1 for December
        (O2, "a", None, O2, 7.0, None),  # revised at O2
        (date(2026, 1, 1), "b", None, O2, 0.0, None),  # a later cycle: never seen by the backtest
    )
    uplift = _uplift(("a", O2, 1.0, "EV-1"), ("b", O2, 1.0, "EV-1"))
    result = consensus_backtest(backtest, chosen, PRODUCTS, uplift, overrides)
    assert result.schema == pl.Schema(BACKTEST_SCHEMA)
    # a@O1: (10 + 100 % event) × 1.5; a@O2: 7; b by LightGBM: no event uplift, no override of its cycles.
    assert result.select("sku", "origin", "lag", "method", "forecast", "actual", "scale").rows() == [
        ("a", O1, 2, "consensus", 30.0, 50.0, 3.0),
        ("a", O2, 1, "consensus", 7.0, 50.0, 3.0),
        ("b", O2, 1, "consensus", 40.0, 50.0, 3.0),
    ]


def test_the_consensus_backtest_is_apply_consensus_at_every_origin():
    backtest = _backtest([
        (sku, origin, month, "naive", forecast)
        for sku, forecast in (("a", 10.0), ("b", 30.0), ("c", 0.0), ("d", 5.0))
        for origin in (O1, O2)
        for month in (O2, JAN)
        if month >= origin
    ])
    chosen = pl.DataFrame({"sku": ["a", "b", "c", "d"], "method": ["naive"] * 4})
    overrides = _overrides(
        (O1, None, "Candles", O2, 100.0, None), (O1, "c", None, JAN, 3.0, None),
        (O2, None, "Candles", JAN, None, 0.1), (O2, "a", None, O2, 1.0, None),
    )
    uplift = _uplift(("d", JAN, 0.5, "EV-1"))
    result = consensus_backtest(backtest, chosen, PRODUCTS, uplift, overrides)
    for origin in (O1, O2):
        rows = backtest.filter(pl.col("origin") == origin)
        expected = apply_consensus(rows, origin, PRODUCTS, uplift, overrides)
        got = result.filter(pl.col("origin") == origin).sort("sku", "month")
        assert got["forecast"].to_list() == pytest.approx(expected["consensus"].to_list())
    # The O1 family quantity of 100 was spread 10 : 30 : 0 : — over a, b, c (d is a soap).
    assert result.filter((pl.col("origin") == O1) & (pl.col("month") == O2))["forecast"].to_list() == [
        25.0, 75.0, 0.0, 5.0,
    ]
