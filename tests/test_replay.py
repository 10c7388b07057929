"""The plan replay: one SKU's months worked out by hand, conservation as a property, no leakage, perfect
foresight as a bound, the scores and the verdict, and the edge cases' messages."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.history import fill_unknown, impute_stockouts, monthly_history
from sop_pipeline.replay.demand import abc_classes, actual_demand
from sop_pipeline.replay.engine import ReplayInputs, run_replay
from sop_pipeline.replay.policies import PERFECT_FORESIGHT, POLICIES, ReplayError, check_policies
from sop_pipeline.replay.score import equal_service, inventory_at_fill, summarise, verdict
from sop_pipeline.replay.simulate import PRODUCT_COLUMNS, Ledger, PolicyMonth, target_stock
from sop_pipeline.scenarios import CENTRAL, Scenario

JAN = date(2025, 1, 1)
NO_SUPPLIERS = pl.DataFrame(schema={"supplier": pl.String, "monthly_capacity": pl.Float64})


def one_product(lead: int, moq: int, multiple: int, cost: float = 2.0, price: float = 5.0) -> pl.DataFrame:
    return pl.DataFrame(
        [("S1", "F", "SUP", "active", "A", cost, price, lead, moq, multiple, None)],
        schema={"sku": pl.String, "family": pl.String, "supplier": pl.String, "status": pl.String,
                "abc_class": pl.String, "unit_cost": pl.Float64, "unit_price": pl.Float64,
                "lead_time_months": pl.Int32, "moq": pl.Int64, "order_multiple": pl.Int64,
                "discontinue_date": pl.Date},
        orient="row",
    ).select(PRODUCT_COLUMNS)


def plan_at(month: date, forecast: list[float], safety_stock: float = 0.0) -> PolicyMonth:
    months = [add_months(month, i) for i in range(len(forecast))]
    frame = pl.DataFrame({"sku": ["S1"] * len(forecast), "month": months, "forecast": [float(f) for f in forecast]},
                         schema={"sku": pl.String, "month": pl.Date, "forecast": pl.Float64})
    return PolicyMonth(frame, {"S1": safety_stock}, {"S1": 0.95})


def simulate_one(demand: list[float], forecast_at, lead: int, moq: int, multiple: int, safety_stock: float = 0.0,
                 horizon: int = 3, suppliers: pl.DataFrame = NO_SUPPLIERS,
                 scenario: Scenario = Scenario(CENTRAL)) -> pl.DataFrame:
    """One SKU replayed month by month; `forecast_at(i)` is the forecast made at month i for `horizon` months."""
    products, ledger = one_product(lead, moq, multiple), Ledger()
    for index, wanted in enumerate(demand):
        month = add_months(JAN, index)
        plan = plan_at(month, forecast_at(index)[:horizon], safety_stock)
        if index == 0:
            ledger.enter("S1", plan, lead)
        ledger.live_month(month, horizon, products, plan, {"S1": (float(wanted), False)}, suppliers, scenario, 6.0)
    return ledger.frame()


COLUMNS = ["opening", "receipts", "demand", "fulfilled", "lost", "closing", "ordered"]


def test_a_plan_that_knows_demand_orders_the_moq_one_lead_time_ahead_and_never_runs_short():
    # Demand 10, 10, 30, 10; lead time 1, MOQ 25, multiple 5, no safety stock. Start: the forecast of the one
    # month before an order can arrive = 10. Jan: February needs 10 → 25 ordered. Feb: 25 arrive, 15 left;
    # March needs 30 − 15 = 15 → 25 ordered. Mar: 15 + 25 − 30 = 10 left, April's 10 is covered: no order.
    path = [10, 10, 30, 10]
    rows = simulate_one(path, lambda i: path[i:] + [0, 0, 0], lead=1, moq=25, multiple=5)
    assert rows.select(COLUMNS).rows() == [
        (10.0, 0.0, 10.0, 10.0, 0.0, 0.0, 25.0),
        (0.0, 25.0, 10.0, 10.0, 0.0, 15.0, 25.0),
        (15.0, 25.0, 30.0, 30.0, 0.0, 10.0, 0.0),
        (10.0, 0.0, 10.0, 10.0, 0.0, 0.0, 0.0),
    ]


def test_a_flat_forecast_misses_the_peak_and_loses_what_the_shelf_lacked():
    # The same SKU forecast at 10 every month. Jan orders 25 for Feb. Feb's projection (15, 5, then April
    # short) needs an order released in March, not now. Mar: 15 on hand, April needs 10 − 5 → 25 ordered, and
    # March's 30 meets 15 units: 15 lost. Apr: the 25 arrive.
    rows = simulate_one([10, 10, 30, 10], lambda i: [10, 10, 10], lead=1, moq=25, multiple=5)
    assert rows.select(COLUMNS).rows() == [
        (10.0, 0.0, 10.0, 10.0, 0.0, 0.0, 25.0),
        (0.0, 25.0, 10.0, 10.0, 0.0, 15.0, 0.0),
        (15.0, 0.0, 30.0, 15.0, 15.0, 0.0, 25.0),
        (0.0, 25.0, 10.0, 10.0, 0.0, 15.0, 0.0),
    ]


def test_without_lead_time_the_order_tops_stock_up_to_safety_stock_plus_the_months_forecast():
    # Lead time 0, safety stock 5, forecast 10: start at 5; each month orders 5 + 10 − stock, received at once.
    rows = simulate_one([8, 12, 10], lambda i: [10, 10, 10], lead=0, moq=1, multiple=1, safety_stock=5.0)
    assert rows.select(COLUMNS).rows() == [
        (5.0, 10.0, 8.0, 8.0, 0.0, 7.0, 10.0),
        (7.0, 8.0, 12.0, 12.0, 0.0, 3.0, 8.0),
        (3.0, 12.0, 10.0, 10.0, 0.0, 5.0, 12.0),
    ]


def test_a_supplier_that_cannot_ship_the_moq_in_a_month_gets_no_order():
    # Capacity 20 a month and an MOQ of 25: levelling cannot place the order anywhere, and an order cut below
    # its MOQ is dropped (supply.review step 5), so the 10 units of stock are all January ever has.
    suppliers = pl.DataFrame({"supplier": ["SUP"], "monthly_capacity": [20.0]})
    rows = simulate_one([10, 10, 10], lambda i: [10, 10, 10], lead=1, moq=25, multiple=5, suppliers=suppliers)
    assert rows["ordered"].to_list() == [0.0, 0.0, 0.0]
    assert rows["lost"].to_list() == [0.0, 10.0, 10.0]


def test_a_purchase_budget_below_the_moq_value_refuses_the_order():
    # 25 units at cost 2 are worth 50, above a monthly budget of 40: the scenario's budget rule refuses them.
    rows = simulate_one([10, 10], lambda i: [10, 10, 10], lead=1, moq=25, multiple=5,
                        scenario=Scenario(CENTRAL, purchase_budget=40.0))
    assert rows["ordered"].to_list() == [0.0, 0.0]


def test_target_stock_is_safety_stock_plus_the_months_before_an_order_can_arrive():
    assert target_stock([10, 20, 30, 40], 5.0, 2) == 35.0  # 5 + 10 + 20
    assert target_stock([10, 20], 5.0, 0) == 5.0  # an order placed now arrives now
    assert target_stock([10, -3], 0.0, 2) == 10.0  # a negative forecast is no demand


@settings(max_examples=60, deadline=None)
@given(
    demand=st.lists(st.integers(0, 60), min_size=1, max_size=7),
    forecast=st.lists(st.integers(0, 60), min_size=3, max_size=3),
    lead=st.integers(0, 3), moq=st.integers(1, 40), multiple=st.integers(1, 12), safety_stock=st.integers(0, 30),
)
def test_every_month_conserves_stock_and_never_fulfils_more_than_demand(demand, forecast, lead, moq, multiple,
                                                                        safety_stock):
    rows = simulate_one(demand, lambda i: forecast, lead, moq, multiple, float(safety_stock))
    for opening, receipts, wanted, fulfilled, lost, closing, ordered in rows.select(COLUMNS).iter_rows():
        assert math.isclose(opening + receipts - fulfilled, closing, abs_tol=1e-9)
        assert 0 <= fulfilled <= wanted + 1e-9 and math.isclose(lost, wanted - fulfilled, abs_tol=1e-9)
        assert closing >= -1e-9
        if ordered > 0:  # every order keeps the MOQ and the multiple
            assert ordered >= moq and ordered % multiple == 0
    closings, openings = rows["closing"].to_list(), rows["opening"].to_list()
    assert openings[1:] == closings[:-1]
    assert rows["receipts"].sum() <= rows["ordered"].sum() + 1e-9


# ---- demand and ABC as known at a month -------------------------------------------------------------------

def test_a_stockout_months_demand_is_estimated_from_its_uncensored_neighbours():
    history = pl.DataFrame({
        "sku": ["S1"] * 3, "month": [JAN, date(2025, 2, 1), date(2025, 3, 1)], "units": [10.0, 2.0, 12.0],
        "is_stockout": [False, True, False],
    })
    demand = actual_demand(history, date(2025, 4, 1))
    # (10 + 12) / 2 = 11, above the 2 that sold.
    assert demand.select("demand", "is_estimated").rows() == [(10.0, False), (11.0, True), (12.0, False)]


def test_abc_classes_follow_the_revenue_share_before_each_sku_at_that_month():
    month = date(2025, 6, 1)
    rows = [("A", 50.0), ("B", 30.0), ("C", 15.0), ("D", 5.0)]
    history = pl.DataFrame({"sku": [s for s, _ in rows] + ["A"], "month": [date(2025, 5, 1)] * 4 + [date(2024, 5, 1)],
                            "net_revenue": [r for _, r in rows] + [1000.0]})
    classes = abc_classes(history, pl.Series(["A", "B", "C", "D", "E"]), month, 0.8, 0.95)
    # Shares before each SKU: 0, 0.5, 0.8, 0.95 → A, A, B, C; E sold nothing → C. The sale of May 2024 is
    # older than 12 months and does not count.
    assert classes.rows() == [("A", "A"), ("B", "A"), ("C", "B"), ("D", "C"), ("E", "C")]


# ---- scores ------------------------------------------------------------------------------------------------

def _replay_rows(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"policy": pl.String, "service_target": pl.Float64, "sku": pl.String,
                                      "month": pl.Date, "demand": pl.Float64, "fulfilled": pl.Float64,
                                      "lost": pl.Float64, "closing": pl.Float64, "receipts": pl.Float64,
                                      "service_level": pl.Float64}, orient="row")


def test_the_summary_scores_service_stock_and_cost_as_defined():
    feb = date(2025, 2, 1)
    replay = _replay_rows([
        ("naive", None, "S1", JAN, 10.0, 10.0, 0.0, 20.0, 30.0, 0.9),
        ("naive", None, "S1", feb, 30.0, 20.0, 10.0, 0.0, 0.0, 0.9),
        ("naive", None, "S2", JAN, 0.0, 0.0, 0.0, 4.0, 0.0, 0.98),
        ("naive", None, "S2", feb, 0.0, 0.0, 0.0, 4.0, 0.0, 0.98),
    ])
    prices = pl.DataFrame({"sku": ["S1", "S2"], "unit_cost": [2.0, 10.0], "unit_price": [5.0, 20.0]})
    row = summarise(replay, prices, excess_cover_months=6.0, holding_cost_rate=0.24).row(0, named=True)
    assert row["fill_rate"] == 30 / 40 and row["target_fill_rate"] == 0.9  # S2 has no demand to weigh
    assert row["lost_revenue"] == 50.0 and row["lost_margin"] == 30.0  # 10 lost × 5, × (5 − 2)
    # Month-end stock at cost: Jan 20 × 2 + 4 × 10 = 80, Feb 0 + 40 = 40; mean 60, peak 80.
    assert row["avg_inventory_value"] == 60.0 and row["peak_cash_in_stock"] == 80.0
    assert row["turns"] == pytest.approx(60.0 * 12 / 2 / 60.0)  # 30 units sold × 2 a year-equivalent over 60
    assert row["purchase_spend"] == 60.0
    # S1 ends with nothing; S2 sold nothing, so all of its 4 units are excess: 40.
    assert row["excess_at_end"] == 40.0
    assert row["holding_cost"] == pytest.approx(60.0 * 0.24 * 2 / 12)
    assert row["total_cost"] == pytest.approx(row["holding_cost"] + 30.0)


def _summary(points: dict[str, list[tuple[float | None, float, float]]]) -> pl.DataFrame:
    rows = [(policy, target, fill, stock, 0.9 if target is None else target)
            for policy, items in points.items() for target, fill, stock in items]
    return pl.DataFrame(rows, schema={"policy": pl.String, "service_target": pl.Float64, "fill_rate": pl.Float64,
                                      "avg_inventory_value": pl.Float64, "target_fill_rate": pl.Float64},
                        orient="row").with_columns(pl.lit(12, pl.Int32).alias("months"))


def test_inventory_at_a_fill_rate_is_read_off_the_policys_curve_and_never_extrapolated():
    summary = _summary({"naive": [(0.85, 0.80, 100.0), (0.95, 0.90, 200.0), (None, 0.94, 260.0)]})
    assert inventory_at_fill(summary, "naive", 0.85) == pytest.approx(150.0)
    assert inventory_at_fill(summary, "naive", 0.92) == pytest.approx(230.0)
    assert inventory_at_fill(summary, "naive", 0.97) is None
    assert inventory_at_fill(summary, "naive", 0.70) is None


def test_the_verdict_compares_stock_at_equal_fill_rate_and_the_gap_to_perfect_foresight():
    summary = _summary({
        "naive": [(0.85, 0.80, 100.0), (0.95, 0.90, 200.0)],
        "production": [(None, 0.85, 120.0), (0.95, 0.92, 160.0)],
        "perfect_foresight": [(None, 0.99, 50.0)],
    })
    # Naive at 85 % fill: 150. Production 120: 20 % less; the gap to foresight 150 − 50 = 100, 30 % closed.
    assert verdict(summary) == (
        "Planned with the production forecast, the last 12 months would have held 85.0 % fill rate (target "
        "90.0 %) with 120 average stock at cost: 20.0 % less than a naive plan needed for the same fill rate "
        "(150), 30.0 % of the gap to perfect foresight closed (50 at 99.0 % fill rate).")
    # At the 90 % target: naive 200 (its 0.95 point), production 120 + 5/7 × 40 between its two points,
    # perfect foresight's curve (99 % only) never came down to it.
    table = {row[0]: row[2:] for row in equal_service(summary).rows()}
    assert table["naive"] == (200.0, 0.0)
    assert table["production"] == pytest.approx((120.0 + 5 / 7 * 40.0, 1 - (120.0 + 5 / 7 * 40.0) / 200.0))
    assert table["perfect_foresight"] == (None, None)


def test_beyond_naives_curve_the_verdict_compares_at_the_target_fill_rate():
    summary = _summary({"naive": [(0.85, 0.80, 100.0), (0.95, 0.92, 200.0)],
                        "production": [(None, 0.95, 150.0), (0.85, 0.88, 120.0)]})
    # Naive at the 90 % target: 100 + 10/12 × 100 = 183.3; production: 120 + 2/7 × 30 = 128.6, 29.9 % less.
    assert verdict(summary) == (
        "Planned with the production forecast, the last 12 months would have held 95.0 % fill rate (target 90.0 %) "
        "with 150 average stock at cost; naive never reached that fill rate (at most 92.0 %), and at the target's "
        "90.0 % the production plan needed 129: 29.9 % less than a naive plan needed for it (183).")


def test_the_verdict_says_when_naive_never_reached_the_fill_rate():
    summary = _summary({"naive": [(None, 0.80, 100.0)], "production": [(None, 0.95, 120.0)]})
    assert "a naive plan never reached that fill rate (at most 80.0 %)" in verdict(summary)


# ---- the whole replay on a small brand ---------------------------------------------------------------------

CYCLE = date(2026, 1, 1)
FIRST = date(2023, 1, 1)


def _units(sku_index: int, month_index: int) -> float:
    # A seasonal, growing SKU with a deterministic wobble: every policy makes errors, none is random.
    base = 20 + 10 * sku_index + month_index * 0.5
    season = 1.0 + 0.4 * math.sin(2 * math.pi * ((month_index + 3 * sku_index) % 12) / 12)
    wobble = ((month_index * 7 + sku_index * 3) % 5 - 2) * 2
    return float(max(round(base * season + wobble), 0))


def brand(months: int = 36, scale_from: date | None = None, factor: float = 1.0) -> ReplayInputs:
    """Three SKUs from two suppliers, sold through two channels, with events, overrides and a capacity."""
    skus = ["A-1", "B-1", "C-1"]
    rows = []
    for s, sku in enumerate(skus):
        for m in range(months):
            month = add_months(FIRST, m)
            units = _units(s, m) * (factor if scale_from and month >= scale_from else 1.0)
            for channel, share in (("DTC", 0.6), ("Wholesale", 0.4)):
                rows.append((sku, channel, month, units * share, units * share * (4.0 + s), False, False))
    history = pl.DataFrame(rows, schema={"sku": pl.String, "channel": pl.String, "month": pl.Date,
                                         "units": pl.Float64, "net_revenue": pl.Float64, "is_stockout": pl.Boolean,
                                         "is_missing": pl.Boolean}, orient="row")
    products = pl.DataFrame({
        "sku": skus, "family": ["F1", "F1", "F2"], "supplier": ["SUP-1", "SUP-1", "SUP-2"],
        "status": ["active"] * 3, "abc_class": ["A", "B", "C"], "unit_cost": [2.0, 3.0, 4.0],
        "unit_price": [4.0, 5.0, 6.0], "lead_time_months": [1, 2, 1], "moq": [20, 30, 10],
        "order_multiple": [5, 10, 5], "launch_date": [FIRST] * 3, "discontinue_date": [None] * 3,
    }, schema_overrides={"lead_time_months": pl.Int32, "discontinue_date": pl.Date})
    events = pl.DataFrame({
        "event_id": ["E1"], "sku": [None], "family": ["F1"], "channel": ["DTC"],
        "start_date": [date(2025, 11, 20)], "end_date": [date(2025, 11, 30)], "uplift_pct": [0.3],
    }, schema_overrides={"sku": pl.String})
    overrides = pl.DataFrame({
        "cycle": [date(2025, 10, 1)], "sku": ["A-1"], "family": [None], "month": [date(2025, 11, 1)],
        "quantity": [None], "percent": [0.2], "reason": ["key account"], "owner": ["anna"],
    }, schema_overrides={"family": pl.String, "quantity": pl.Float64})
    suppliers = pl.DataFrame({"supplier": ["SUP-1", "SUP-2"], "monthly_capacity": [400.0, None]},
                             schema_overrides={"monthly_capacity": pl.Float64})
    return ReplayInputs(cycle=add_months(FIRST, months), history=history, products=products, events=events,
                        overrides=overrides, suppliers=suppliers, horizon=4, backtest_origins=3)


def simple_folds(known: pl.DataFrame, origin: date, horizon: int, products=None, events=None) -> pl.DataFrame:
    """A cheap stand-in for the forecast stage's fold: naive, seasonal naive, a 3-month mean (statistical) and
    a 'lightgbm' that blends the first two. Only months before `origin` reach it, as with the real one."""
    series = fill_unknown(impute_stockouts(monthly_history(known.filter(pl.col("month") < origin), origin)))
    rows = []
    for sku in sorted(series["sku"].unique()):
        units = series.filter(pl.col("sku") == sku).sort("month")["units"].to_list()
        for h in range(horizon):
            seasonal = units[len(units) - 12 + h % 12] if len(units) >= 12 else units[-1]
            month = add_months(origin, h)
            rows += [(sku, month, "naive", units[-1]), (sku, month, "seasonal_naive", seasonal),
                     (sku, month, "moving_average", sum(units[-3:]) / len(units[-3:])),
                     (sku, month, "lightgbm", 0.5 * units[-1] + 0.5 * seasonal)]
    return pl.DataFrame(rows, schema={"sku": pl.String, "month": pl.Date, "method": pl.String,
                                      "forecast": pl.Float64}, orient="row")


@pytest.fixture(scope="module")
def replayed():
    return run_replay(brand(), simple_folds, months=4)


def test_the_replay_covers_every_policy_target_sku_and_month_of_the_window(replayed):
    assert replayed.months == tuple(add_months(CYCLE, -k) for k in (4, 3, 2, 1))
    assert replayed.replay["policy"].unique().sort().to_list() == sorted(POLICIES)
    assert replayed.replay.height == len(POLICIES) * 5 * 3 * 4  # 5 service targets, 3 SKUs, 4 months
    assert replayed.summary.height == len(POLICIES) * 5
    assert replayed.replay.filter(pl.col("month") < replayed.months[0]).is_empty()  # the warm-up is not scored


def test_every_replayed_row_conserves_stock(replayed):
    rows = replayed.replay
    gap = (pl.col("opening") + pl.col("receipts") - pl.col("fulfilled") - pl.col("closing")).abs()
    assert rows.filter(gap > 1e-9).is_empty()
    assert rows.filter((pl.col("fulfilled") > pl.col("demand") + 1e-9) | (pl.col("lost") < -1e-9)).is_empty()


def test_perfect_foresight_holds_no_more_stock_than_any_plan_with_at_least_its_fill_rate(replayed):
    summary = replayed.summary
    foresight = summary.filter((pl.col("policy") == PERFECT_FORESIGHT) & pl.col("service_target").is_null()).row(
        0, named=True)
    rivals = summary.filter((pl.col("policy") != PERFECT_FORESIGHT)
                            & (pl.col("fill_rate") >= foresight["fill_rate"] - 1e-12))
    assert rivals.filter(pl.col("avg_inventory_value") < foresight["avg_inventory_value"]).is_empty()
    assert foresight["fill_rate"] == 1.0  # no capacity bites this brand's plan, so knowing demand serves it all


def test_the_same_inputs_in_any_row_order_give_identical_tables(replayed):
    inputs = brand()
    shuffled = ReplayInputs(**{**inputs.__dict__, "history": inputs.history.sample(fraction=1.0, shuffle=True, seed=3),
                               "products": inputs.products.reverse()})
    again = run_replay(shuffled, simple_folds, months=4)
    assert again.replay.equals(replayed.replay) and again.summary.equals(replayed.summary)
    assert again.verdict == replayed.verdict


DECISION = ["policy", "service_target", "sku", "opening", "receipts", "ordered", "safety_stock", "service_level"]


def _decisions(replay, month: date) -> pl.DataFrame:
    return replay.replay.filter((pl.col("month") == month) & (pl.col("policy") != PERFECT_FORESIGHT)).select(DECISION)


def test_a_months_decision_is_the_same_when_the_inputs_are_cut_or_changed_from_that_month_on(replayed):
    month = date(2025, 11, 1)
    full = brand()
    cut = run_replay(ReplayInputs(**{**full.__dict__, "cycle": add_months(month, 1)}), simple_folds, months=3)
    assert cut.months[-1] == month and cut.months[0] == replayed.months[0]
    assert _decisions(cut, month).equals(_decisions(replayed, month))
    # Sales from that month on tripled: what was decided at its start cannot move, what happened can.
    changed = run_replay(brand(scale_from=month, factor=3.0), simple_folds, months=4)
    assert _decisions(changed, month).equals(_decisions(replayed, month))
    assert not changed.replay.filter(pl.col("month") == month)["demand"].equals(
        replayed.replay.filter(pl.col("month") == month)["demand"])


def test_consensus_replays_the_overrides_landed_for_each_month(replayed):
    # A-1's override of cycle 2025-10 (+20 % for November) makes October's consensus plan differ from production.
    october = replayed.replay.filter((pl.col("month") == date(2025, 10, 1)) & pl.col("service_target").is_null()
                                     & (pl.col("sku") == "A-1"))
    by_policy = dict(october.select("policy", "ordered").iter_rows())
    assert by_policy["consensus"] != by_policy["production"]


# ---- edge cases: a clear message, never a crash ------------------------------------------------------------

def test_an_unknown_policy_is_refused_with_the_known_ones():
    with pytest.raises(ReplayError, match="unknown policy 'magic': choose from naive, seasonal_naive, production"):
        check_policies(["naive", "magic"])


def test_a_sku_launched_in_the_window_enters_at_its_launch_month_and_is_named():
    inputs = brand()
    launch = date(2025, 11, 1)
    history = inputs.history.filter((pl.col("sku") != "C-1") | (pl.col("month") >= launch))
    products = inputs.products.with_columns(
        pl.when(pl.col("sku") == "C-1").then(pl.lit(launch)).otherwise("launch_date").alias("launch_date"))
    result = run_replay(ReplayInputs(**{**inputs.__dict__, "history": history, "products": products}),
                        simple_folds, months=4, policies=["naive", "production"])
    assert any("1 SKU(s) launched during the replay" in note and "C-1" in note for note in result.notes)
    assert result.replay.filter(pl.col("sku") == "C-1")["month"].min() == launch


def test_a_sku_discontinued_in_the_window_plans_no_demand_after_it_and_is_named():
    inputs = brand()
    products = inputs.products.with_columns(
        pl.when(pl.col("sku") == "B-1").then(pl.lit(date(2025, 10, 15))).otherwise("discontinue_date")
        .alias("discontinue_date"))
    history = inputs.history.filter((pl.col("sku") != "B-1") | (pl.col("month") < date(2025, 11, 1)))
    result = run_replay(ReplayInputs(**{**inputs.__dict__, "history": history, "products": products}),
                        simple_folds, months=4, policies=["naive"])
    assert any("stop selling during the replay" in note and "B-1" in note for note in result.notes)
    after = result.replay.filter((pl.col("sku") == "B-1") & (pl.col("month") >= date(2025, 11, 1)))
    assert after["demand"].sum() == 0 and after["ordered"].sum() == 0 and after["receipts"].sum() == 0


def test_a_month_without_actuals_is_estimated_and_said():
    inputs = brand()
    gap = date(2025, 11, 1)
    history = inputs.history.with_columns(
        pl.when(pl.col("month") == gap).then(None).otherwise("units").alias("units"),
        (pl.col("month") == gap).alias("is_missing"),
    )
    result = run_replay(ReplayInputs(**{**inputs.__dict__, "history": history}), simple_folds, months=4,
                        policies=["naive"])
    assert any(note.startswith("2025-11 has no actuals") for note in result.notes)
    november = result.replay.filter(pl.col("month") == gap)
    assert november["is_estimated"].all() and (november["demand"] > 0).all()


def test_a_lead_time_longer_than_the_replay_is_said_and_the_sku_lives_on_its_starting_stock():
    result = run_replay(brand(), simple_folds, months=4, policies=["naive"], lead_time_months=60)
    assert any("lead time of" in note and "no order it places arrives in time" in note for note in result.notes)
    assert result.replay["receipts"].sum() == 0


def test_actuals_that_end_before_the_cycle_end_the_replay_there():
    inputs = brand()
    result = run_replay(ReplayInputs(**{**inputs.__dict__, "cycle": add_months(CYCLE, 2)}), simple_folds, months=3,
                        policies=["naive"])
    assert result.months[-1] == add_months(CYCLE, -1)
    assert "the actuals end in 2025-12: the replay ends there, not in 2026-02" in result.notes


def test_no_actuals_before_the_cycle_is_refused():
    inputs = brand()
    with pytest.raises(ReplayError, match="no actuals before cycle 2023-01"):
        run_replay(ReplayInputs(**{**inputs.__dict__, "cycle": FIRST}), simple_folds)


def test_series_without_stock_suppliers_events_or_overrides_replay_with_a_lead_time_given():
    # What `sop import-series` lands: neutral products (supplier 'none', lead time 0, MOQ 1) and sales only.
    inputs = brand()
    neutral = inputs.products.with_columns(
        pl.lit("none").alias("supplier"), pl.lit(0, pl.Int32).alias("lead_time_months"),
        pl.lit(1, pl.Int64).alias("moq"), pl.lit(1, pl.Int64).alias("order_multiple"))
    bare = ReplayInputs(**{**inputs.__dict__, "products": neutral, "events": inputs.events.clear(),
                           "overrides": inputs.overrides.clear(), "suppliers": inputs.suppliers.clear()})
    result = run_replay(bare, simple_folds, months=4, lead_time_months=2)
    assert "no overrides were landed for the replay's months: consensus is production plus events" in result.notes
    foresight = result.summary.filter((pl.col("policy") == PERFECT_FORESIGHT) & pl.col("service_target").is_null())
    assert foresight["fill_rate"].item() == 1.0
    # Every order placed in the window arrives two months after it, as the lead time given says.
    orders = result.replay.filter(pl.col("ordered") > 0).select("policy", "service_target", "sku", "month", "ordered")
    arrivals = result.replay.select("policy", "service_target", "sku", pl.col("month").dt.offset_by("-2mo"), "receipts")
    landed = orders.join(arrivals, on=["policy", "service_target", "sku", "month"], nulls_equal=True)
    assert landed.height > 0 and (landed["receipts"] == landed["ordered"]).all()


def test_months_before_any_backtest_evidence_are_said_to_plan_without_safety_stock():
    # 18 months of history, 12 replayed: a backtest origin needs a year before it, so the window's first
    # seven months (2023-07 to 2024-01) have no forecast errors to size a buffer from.
    result = run_replay(brand(months=18), simple_folds, months=12, policies=["naive"])
    assert any(note.startswith("7 month(s) of the replay (2023-07 to 2024-01) come before any backtest origin")
               for note in result.notes)
    early = result.replay.filter(pl.col("month") <= date(2024, 1, 1))
    assert early["safety_stock"].max() == 0.0
