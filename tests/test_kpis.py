from datetime import date

import duckdb
import polars as pl
import pytest

from sop_pipeline.cycle import add_months
from sop_pipeline.pack.kpis import (
    DEMAND_PLAN_COLUMNS,
    KPI_DEFINITIONS,
    KPI_HISTORY_SCHEMA,
    KPI_UNITS,
    kpi_history,
    kpi_series,
    read_kpi_inputs,
)
from sop_pipeline.plan.accuracy import PLAN_VS_ACTUAL_SCHEMA, plan_accuracy

CYCLE = date(2025, 5, 1)
JAN, FEB, MAR, APR, MAY, JUN = (date(2025, m, 1) for m in range(1, 7))

# A sells 10 a month (April on two channels); B is out of stock in February, when it sold 2 of an
# estimated 6 (the mean of its uncensored January, March and April). May is the cycle: not closed.
DEMAND = pl.DataFrame(
    [
        ("A", "web", JAN, 10.0, False),
        ("A", "web", FEB, 10.0, False),
        ("A", "web", MAR, 10.0, False),
        ("A", "web", APR, 6.0, False),
        ("A", "store", APR, 4.0, False),
        ("A", "web", MAY, 999.0, False),
        ("B", "web", JAN, 4.0, False),
        ("B", "web", FEB, 2.0, True),
        ("B", "web", MAR, 6.0, False),
        ("B", "web", APR, 8.0, False),
    ],
    schema={"sku": pl.String, "channel": pl.String, "month": pl.Date, "units": pl.Float64, "is_stockout": pl.Boolean},
    orient="row",
)

# Month-end counts. At cost (A 2, B 5): January 85, February 40, March 100, April 210.
STOCK = pl.DataFrame(
    [
        ("A", JAN, 30.0), ("A", FEB, 20.0), ("A", MAR, 40.0), ("A", APR, 100.0),
        ("B", JAN, 5.0), ("B", FEB, 0.0), ("B", MAR, 4.0), ("B", APR, 2.0),
    ],
    schema={"sku": pl.String, "month": pl.Date, "on_hand": pl.Float64},
    orient="row",
)

# B is discontinued in mid-March: obsolete from March's month end on.
PRODUCTS = pl.DataFrame(
    {"sku": ["A", "B"], "unit_cost": [2.0, 5.0], "discontinue_date": [None, date(2025, 3, 15)]},
    schema={"sku": pl.String, "unit_cost": pl.Float64, "discontinue_date": pl.Date},
)

# March scored by the plan of March (lag 1), of February (lag 2, not a KPI lag) and of January (lag 3);
# April by the plan of April, on a month that sold nothing.
PLAN_VS_ACTUAL = pl.DataFrame(
    [
        # plan_cycle, sku, month, lag, actual, is_stockout, naive, forecast, consensus
        (MAR, "A", MAR, 1, 10.0, False, 8.0, 9.0, 12.0),
        (MAR, "B", MAR, 1, 5.0, False, 5.0, 6.0, 4.0),
        (MAR, "C", MAR, 1, 7.0, True, 7.0, 7.0, 20.0),  # stockout: censored, not scored
        (MAR, "D", MAR, 1, 3.0, False, None, 3.0, 30.0),  # no naive value: not scored
        (FEB, "A", MAR, 2, 10.0, False, 1.0, 1.0, 1.0),
        (JAN, "A", MAR, 3, 10.0, False, 12.0, 10.0, 15.0),
        (JAN, "B", MAR, 3, 5.0, False, 2.0, 5.0, 5.0),
        (APR, "A", APR, 1, 0.0, False, 1.0, 1.0, 2.0),
    ],
    schema={name: PLAN_VS_ACTUAL_SCHEMA[name] for name in
            ("plan_cycle", "sku", "month", "lag", "actual", "is_stockout", "naive", "forecast", "consensus")},
    orient="row",
).with_columns(
    pl.lit("F1").alias("family"),
    pl.lit("AX").alias("segment"),
    (pl.col("forecast") - pl.col("actual")).alias("forecast_error"),
    (pl.col("consensus") - pl.col("actual")).alias("consensus_error"),
    pl.lit("approved").alias("plan_state"),
    pl.lit(1, pl.Int32).alias("scored_version"),
    pl.col("consensus").alias("demand_review"),
    pl.col("consensus").alias("executive"),
).select(list(PLAN_VS_ACTUAL_SCHEMA))

DEMAND_PLAN = pl.DataFrame(
    [
        # plan_cycle, sku, month, is_current, time_fence, previous_plan, change_vs_previous
        (MAR, "A", APR, True, "frozen", 10.0, 2.0),
        (MAR, "A", MAY, True, "frozen", 20.0, -4.0),
        (MAR, "A", JUN, True, "flexible", 10.0, 10.0),  # beyond the frozen fence
        (MAR, "B", APR, True, "frozen", None, None),  # new in this plan
        (MAR, "A", APR, False, "frozen", 10.0, 100.0),  # a superseded version
        (FEB, "A", MAR, True, "frozen", None, None),  # the first plan: nothing to compare
        (JUN, "A", JUN, True, "frozen", 1.0, 1.0),  # after the cycle
    ],
    schema=DEMAND_PLAN_COLUMNS,
    orient="row",
)


def history(**overrides) -> pl.DataFrame:
    inputs = {
        "plan_vs_actual": PLAN_VS_ACTUAL,
        "demand_plan": DEMAND_PLAN,
        "demand": DEMAND,
        "stock": STOCK,
        "products": PRODUCTS,
        "excess_cover_months": 2.0,
    }
    return kpi_history(CYCLE, **{**inputs, **overrides})


def row(frame: pl.DataFrame, kpi: str, period: date, lag: int | None = None) -> dict:
    rows = frame.filter(pl.col("kpi") == kpi, pl.col("period") == period)
    rows = rows.filter(pl.col("lag").is_null() if lag is None else pl.col("lag") == lag)
    assert rows.height == 1, f"{kpi} {period} lag {lag}: {rows.height} rows"
    return rows.row(0, named=True)


def periods(frame: pl.DataFrame, kpi: str) -> list[date]:
    return frame.filter(pl.col("kpi") == kpi)["period"].to_list()


def test_the_table_has_the_documented_columns_and_every_kpi_is_defined():
    frame = history()
    assert frame.schema == pl.Schema(KPI_HISTORY_SCHEMA)
    assert set(frame["kpi"]) == set(KPI_DEFINITIONS) == set(KPI_UNITS)
    assert frame.select("cycle", "period", "kpi", "unit", "source").null_count().sum_horizontal().item() == 0
    assert frame["cycle"].unique().to_list() == [CYCLE]


def test_rows_are_sorted_by_period_kpi_and_lag():
    frame = history()
    assert frame.equals(frame.sort("period", "kpi", "lag"))


def test_wmape_bias_and_fva_at_lag_1_score_the_plan_of_the_month_without_stockouts_or_missing_naive():
    frame = history()
    wmape = row(frame, "wmape", MAR, lag=1)
    # A misses by 2, B by 1, on 15 units sold; C (stockout) and D (no naive) are left out.
    assert (wmape["numerator"], wmape["denominator"]) == (3.0, 15.0)
    assert wmape["value"] == pytest.approx(0.2)
    assert wmape["plan_cycle"] == MAR
    assert (wmape["unit"], wmape["source"]) == ("ratio", "locked plans")
    assert row(frame, "bias", MAR, lag=1)["value"] == pytest.approx(1 / 15)
    fva = row(frame, "fva_vs_naive", MAR, lag=1)
    # Naive misses by 2 + 0 = 2 against the plan's 3: the plan did worse than a naive guess.
    assert fva["value"] == pytest.approx(2 / 15 - 3 / 15)
    assert (fva["numerator"], fva["denominator"]) == (-1.0, 15.0)


def test_lag_3_scores_the_plan_locked_two_months_before_and_lag_2_is_not_a_kpi():
    frame = history()
    wmape = row(frame, "wmape", MAR, lag=3)
    assert wmape["plan_cycle"] == JAN
    assert wmape["value"] == pytest.approx(5 / 15)
    assert row(frame, "fva_vs_naive", MAR, lag=3)["value"] == pytest.approx(0.0)
    assert sorted(frame.filter(pl.col("kpi") == "wmape")["lag"].unique().to_list()) == [1, 3]


def test_plan_kpis_are_the_plan_scorecard_total_rows_one_month_at_a_time():
    frame = history()
    totals = plan_accuracy(PLAN_VS_ACTUAL).filter(pl.col("segment_type") == "total", pl.col("lag").is_in([1, 3]))
    for score in totals.iter_rows(named=True):
        period = add_months(score["plan_cycle"], score["lag"] - 1)
        assert row(frame, "wmape", period, score["lag"])["value"] == score["wmape_consensus"]
        assert row(frame, "bias", period, score["lag"])["value"] == score["bias_consensus"]
        assert row(frame, "fva_vs_naive", period, score["lag"])["value"] == score["fva_consensus_vs_naive"]
        assert row(frame, "wmape", period, score["lag"])["denominator"] == score["actual"]


def test_a_month_without_demand_has_null_plan_scores_but_keeps_its_sums():
    frame = history()
    wmape = row(frame, "wmape", APR, lag=1)
    assert wmape["value"] is None
    assert (wmape["numerator"], wmape["denominator"]) == (2.0, 0.0)
    assert row(frame, "fva_vs_naive", APR, lag=1)["value"] is None


def test_fill_rate_divides_sales_by_demand_with_the_stockout_month_imputed():
    frame = history()
    february = row(frame, "fill_rate", FEB)
    # B sold 2 of an estimated 6 (mean of 4, 6, 8); A sold its 10.
    assert (february["numerator"], february["denominator"]) == (12.0, 16.0)
    assert february["value"] == pytest.approx(0.75)
    assert (february["unit"], february["source"], february["plan_cycle"]) == ("ratio", "facts", None)
    assert row(frame, "fill_rate", APR)["value"] == 1.0
    assert periods(frame, "fill_rate") == [JAN, FEB, MAR, APR]


def test_inventory_turns_need_three_months_and_annualise_fewer_than_twelve():
    frame = history()
    assert periods(frame, "inventory_turns") == [MAR, APR]
    march = row(frame, "inventory_turns", MAR)
    # COGS 40 + 30 + 50 over 3 months, × 12 / 3; mean stock (85 + 40 + 100) / 3.
    assert march["numerator"] == pytest.approx(480.0)
    assert march["denominator"] == pytest.approx(75.0)
    assert march["value"] == pytest.approx(6.4)
    april = row(frame, "inventory_turns", APR)
    assert april["value"] == pytest.approx(180 * 3 / (435 / 4))
    assert april["unit"] == "turns"


def test_days_of_cover_divides_month_end_stock_by_daily_cogs_of_three_months():
    frame = history()
    april = row(frame, "days_of_cover", APR)
    # 210 at cost / ((30 + 50 + 60) COGS / (28 + 31 + 30) days).
    assert april["value"] == pytest.approx(210 / (140 / 89))
    assert april["numerator"] == 210.0
    # January is the first month of the fact base: its own 31 days only.
    assert row(frame, "days_of_cover", JAN)["value"] == pytest.approx(85 / (40 / 31))


def test_excess_value_is_stock_beyond_the_cover_of_recent_sales_leaving_obsolete_skus_out():
    frame = history()
    # January: A holds 30 against 2 × 10, 10 units over at cost 2; B holds 5 against 2 × 4.
    assert row(frame, "excess_value", JAN)["value"] == 20.0
    # February: A exactly covered; B's mean over January and February sold is 3, it holds 0.
    assert row(frame, "excess_value", FEB)["value"] == 0.0
    # March: A holds 40 against 2 × 10; B is obsolete from March's month end.
    assert row(frame, "excess_value", MAR)["value"] == 40.0
    # April: A holds 100 against 2 × 10; B is obsolete and counted there instead.
    april = row(frame, "excess_value", APR)
    assert (april["value"], april["numerator"], april["denominator"], april["unit"]) == (160.0, 160.0, None, "money")


def test_a_month_whose_stock_is_all_obsolete_has_no_excess_rather_than_no_row():
    products = PRODUCTS.with_columns(pl.lit(JAN).alias("discontinue_date"))
    frame = history(products=products)
    assert row(frame, "excess_value", APR)["value"] == 0.0
    assert row(frame, "obsolete_value", APR)["value"] == 210.0


def test_the_excess_cover_setting_moves_the_threshold():
    assert row(history(excess_cover_months=5.0), "excess_value", APR)["value"] == (100 - 50) * 2.0


def test_obsolete_value_counts_the_stock_of_skus_discontinued_by_the_month_end():
    frame = history()
    assert row(frame, "obsolete_value", FEB)["value"] == 0.0
    assert row(frame, "obsolete_value", MAR)["value"] == 4 * 5.0
    assert row(frame, "obsolete_value", APR)["value"] == 2 * 5.0


def test_plan_stability_compares_the_frozen_months_of_current_versions_with_the_previous_plan():
    frame = history()
    march = row(frame, "plan_stability", MAR)
    assert (march["numerator"], march["denominator"]) == (6.0, 30.0)
    assert march["value"] == pytest.approx(0.2)
    assert (march["plan_cycle"], march["source"]) == (MAR, "locked plans")
    first = row(frame, "plan_stability", FEB)
    assert (first["value"], first["numerator"], first["denominator"]) == (None, None, None)
    assert periods(frame, "plan_stability") == [FEB, MAR]


def test_a_month_that_sold_nothing_has_null_ratios_and_an_unknown_month_is_left_out():
    demand = pl.DataFrame(
        [("A", "web", JAN, 0.0, False), ("A", "web", FEB, None, False), ("B", "web", FEB, 3.0, False)],
        schema=DEMAND.schema, orient="row",
    )
    stock = STOCK.filter(pl.col("month") <= FEB)
    frame = history(demand=demand, stock=stock)
    january = row(frame, "fill_rate", JAN)
    assert (january["value"], january["numerator"], january["denominator"]) == (None, 0.0, 0.0)
    assert row(frame, "days_of_cover", JAN)["value"] is None
    # A's February sales are unknown: only B counts.
    assert row(frame, "fill_rate", FEB)["denominator"] == 3.0


def test_no_data_gives_no_row_not_a_zero_row():
    frame = history(
        plan_vs_actual=PLAN_VS_ACTUAL.clear(),
        demand_plan=DEMAND_PLAN.clear(),
        stock=STOCK.clear(),
    )
    assert set(frame["kpi"]) == {"fill_rate"}
    empty = history(plan_vs_actual=PLAN_VS_ACTUAL.clear(), demand_plan=DEMAND_PLAN.clear(), demand=DEMAND.clear(),
                    stock=STOCK.clear())
    assert empty.is_empty()
    assert empty.schema == pl.Schema(KPI_HISTORY_SCHEMA)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_inputs_give_an_identical_frame(seed):
    shuffled = {
        name: frame.sample(fraction=1.0, shuffle=True, seed=seed)
        for name, frame in (("plan_vs_actual", PLAN_VS_ACTUAL), ("demand_plan", DEMAND_PLAN), ("demand", DEMAND),
                            ("stock", STOCK), ("products", PRODUCTS))
    }
    again = history(**shuffled)
    assert again.equals(history())
    assert again.write_csv() == history().write_csv()


def test_kpi_series_reads_one_kpi_and_lag_of_the_latest_cycle():
    frame = history()
    older = frame.with_columns(pl.lit(APR).alias("cycle"), pl.lit(-1.0).alias("value"))
    series = kpi_series(pl.concat([older, frame]), "wmape", lag=1)
    assert series.columns == ["period", "value"]
    assert series["period"].to_list() == [MAR, APR]
    assert series["value"][0] == pytest.approx(0.2)
    assert kpi_series(frame, "fill_rate")["period"].to_list() == [JAN, FEB, MAR, APR]


def test_read_kpi_inputs_treats_missing_plan_and_stock_tables_as_empty():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.fct_demand_monthly (cycle DATE, sku VARCHAR, channel VARCHAR, month DATE, "
                "units DOUBLE, is_stockout BOOLEAN, is_missing BOOLEAN)")
    con.execute("INSERT INTO marts.fct_demand_monthly VALUES (?, 'A', 'web', ?, 5, false, false), "
                "(?, 'A', 'web', ?, 7, false, false)", [CYCLE, APR, CYCLE, MAY])
    con.execute("CREATE TABLE marts.dim_products (sku VARCHAR, unit_cost DOUBLE, discontinue_date DATE)")
    con.execute("INSERT INTO marts.dim_products VALUES ('A', 2.0, NULL)")
    inputs = read_kpi_inputs(con, CYCLE)
    assert inputs["plan_vs_actual"].is_empty() and inputs["plan_vs_actual"].schema == pl.Schema(PLAN_VS_ACTUAL_SCHEMA)
    assert inputs["demand_plan"].is_empty() and inputs["stock"].is_empty()
    assert inputs["demand"]["month"].to_list() == [APR]
    frame = kpi_history(CYCLE, **inputs, excess_cover_months=6.0)
    assert frame.select("period", "kpi", "value").rows() == [(APR, "fill_rate", 1.0)]


def test_read_kpi_inputs_reads_only_the_cycle_s_plan_scores_and_current_plans_up_to_it():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.fct_demand_monthly (sku VARCHAR, channel VARCHAR, month DATE, units DOUBLE, "
                "is_stockout BOOLEAN, is_missing BOOLEAN)")
    con.execute("CREATE TABLE marts.dim_products (sku VARCHAR, unit_cost DOUBLE, discontinue_date DATE)")
    con.execute("CREATE SCHEMA sop")
    con.register("pva", PLAN_VS_ACTUAL.with_columns(pl.lit(CYCLE).alias("cycle")).to_arrow())
    con.execute("CREATE TABLE sop.plan_vs_actual AS SELECT * FROM pva UNION ALL "
                "SELECT * REPLACE (CAST('2025-04-01' AS DATE) AS cycle) FROM pva")
    con.register("plans", DEMAND_PLAN.rename({"plan_cycle": "cycle"}).to_arrow())
    con.execute("CREATE TABLE sop.demand_plan AS SELECT * FROM plans")
    con.execute("CREATE SCHEMA intermediate")
    con.register("stock", STOCK.to_arrow())
    con.execute("CREATE VIEW intermediate.int_inventory_aggregated_to_months AS SELECT * FROM stock")
    inputs = read_kpi_inputs(con, CYCLE)
    assert inputs["plan_vs_actual"].height == PLAN_VS_ACTUAL.height
    assert sorted(set(inputs["demand_plan"]["plan_cycle"])) == [FEB, MAR]
    assert inputs["demand_plan"]["is_current"].all()
    assert inputs["stock"].height == STOCK.height
