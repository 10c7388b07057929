"""The replay's inputs from a warehouse whose fact base is built for the cycle, and the fold forecaster with
the home's fold cache bound (shared with the forecast stage, docs/replay.md)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date

import duckdb

from sop_pipeline.forecast.backtest import origin_forecasts
from sop_pipeline.forecast.folds import FoldCache
from sop_pipeline.replay.engine import ReplayInputs
from sop_pipeline.replay.forecasts import Forecaster
from sop_pipeline.replay.policies import ReplayError
from sop_pipeline.scenarios import Scenario
from sop_pipeline.warehouse import fetch_frame, table_columns


def fold_forecaster(cache: FoldCache | None, include_lightgbm: bool = True) -> Forecaster:
    """The forecast stage's fold function, with the replay's cache bound to it."""
    return functools.partial(origin_forecasts, include_lightgbm=include_lightgbm, cache=cache)


def read_replay_inputs(
    con: duckdb.DuckDBPyConnection, cycle: date, horizon: int, backtest_origins: int,
    service_levels: Mapping[str, float], abc_a_share: float, abc_b_share: float, excess_cover_months: float,
    scenario: Scenario,
) -> ReplayInputs:
    """The fact base, the products, events, overrides and supplier capacity a replay of `cycle` reads.

    Every read is ordered (a join or GROUP BY returns rows in no fixed order, and the folds' cache keys and
    the float sums read them in order)."""
    if not table_columns(con, "marts", "fct_demand_monthly"):
        raise ReplayError("the warehouse has no fact base yet: run the cycle first (sop run --cycle "
                          f"{cycle:%Y-%m})")
    built = con.execute("SELECT max(cycle) FROM marts.fct_demand_monthly").fetchall()[0][0]
    if built is None or built < cycle:
        raise ReplayError(f"the warehouse's fact base was built for cycle {built:%Y-%m} and holds no month of "
                          f"{cycle:%Y-%m}'s: run sop run --cycle {cycle:%Y-%m} first" if built else
                          f"the warehouse's fact base is empty: run sop run --cycle {cycle:%Y-%m} first")
    history = fetch_frame(
        con, "SELECT sku, channel, month, units, net_revenue, is_stockout, is_missing FROM marts.fct_demand_monthly "
        "WHERE month < ? ORDER BY sku, channel, month", [cycle])
    return ReplayInputs(
        cycle=cycle,
        history=history,
        products=fetch_frame(con, "SELECT * FROM marts.dim_products ORDER BY sku"),
        events=fetch_frame(con, "SELECT * FROM staging.stg_raw__events ORDER BY event_id"),
        overrides=fetch_frame(con, "SELECT * FROM staging.stg_raw__overrides ORDER BY ALL"),
        suppliers=fetch_frame(con, "SELECT supplier, monthly_capacity FROM staging.stg_raw__suppliers "
                                   "ORDER BY supplier"),
        horizon=horizon,
        backtest_origins=backtest_origins,
        service_levels=dict(service_levels),
        abc_a_share=abc_a_share,
        abc_b_share=abc_b_share,
        excess_cover_months=excess_cover_months,
        scenario=scenario,
    )
