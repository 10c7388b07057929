"""The plan_replay asset on a hand-made warehouse: both tables written for the cycle with their documented
columns, the real forecast folds kept in the home's cache, and too little history leaving empty tables
rather than failing the cycle; reading a warehouse whose fact base is older than the cycle is refused."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import polars as pl
import pytest

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.replay import plan_replay
from sop_pipeline.outputs import OUTPUT_TABLES
from sop_pipeline.replay.inputs import read_replay_inputs
from sop_pipeline.replay.policies import ReplayError
from sop_pipeline.scenarios import CENTRAL, Scenario
from sop_pipeline.warehouse import connect, fetch_frame

from test_replay import brand

CYCLE = date(2026, 1, 1)


def warehouse(home, history: pl.DataFrame, built_for: date = CYCLE, **settings) -> SopConfig:
    """A warehouse holding only what the replay reads: the fact base and the staged events, overrides and
    suppliers of `test_replay.brand`."""
    inputs = brand()
    # Three backtest origins and a three-month horizon: the real folds, fewer of them.
    sop = SopConfig(home=str(home), backtest_origins=3, horizon=3, **settings)
    sop.home_path.mkdir(parents=True)
    tables = {
        "marts.fct_demand_monthly": history.with_columns(pl.lit(built_for).alias("cycle")),
        "marts.dim_products": inputs.products.with_columns(pl.lit(built_for).alias("cycle")),
        "staging.stg_raw__events": inputs.events,
        "staging.stg_raw__overrides": inputs.overrides,
        "staging.stg_raw__suppliers": inputs.suppliers,
    }
    with duckdb.connect(str(sop.warehouse_path)) as con:
        for name, frame in tables.items():
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
            con.register("frame", frame.to_arrow())
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    return sop


def materialise(sop: SopConfig):
    with dg.instance_for_test() as instance:
        return dg.materialize([plan_replay], partition_key=CYCLE.isoformat(), resources={"sop": sop},
                              instance=instance, raise_on_error=False)


def documented(name: str) -> list[str]:
    return next(list(t.columns) for t in OUTPUT_TABLES if t.name == name)


def test_the_asset_writes_the_cycles_replay_and_summary_with_the_documented_columns(tmp_path):
    sop = warehouse(tmp_path / "home", brand().history)
    result = materialise(sop)
    assert result.success
    with connect(sop.warehouse_path, read_only=True) as con:
        replay = fetch_frame(con, "SELECT * FROM sop.replay ORDER BY ALL")
        summary = fetch_frame(con, "SELECT * FROM sop.replay_summary ORDER BY ALL")
    assert replay.columns == documented("replay") and summary.columns == documented("replay_summary")
    assert set(replay["cycle"]) == {CYCLE} and replay["month"].n_unique() == 12
    assert summary.height == 5 * 5  # five policies, the configured levels and four curve targets
    assert summary["verdict"].n_unique() == 1 and summary["verdict"][0].startswith("Planned with the production")
    # Every fold it fitted is kept for the next cycle's replay.
    assert len(list(sop.fold_cache_path.glob("*.parquet"))) >= 12


def test_too_little_history_leaves_the_tables_empty_instead_of_failing_the_cycle(tmp_path):
    history = brand().history.filter(pl.col("month") == date(2025, 12, 1))
    sop = warehouse(tmp_path / "home", history)
    result = materialise(sop)
    assert result.success
    with connect(sop.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sop.replay").fetchall()[0][0] == 0
        columns = [name for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sop' "
            "AND table_name = 'replay_summary' ORDER BY ordinal_position").fetchall()]
    assert columns == documented("replay_summary")


def test_the_replay_covers_the_configured_months_and_none_when_turned_off(tmp_path):
    months = {}
    for setting in (4, 0):
        sop = warehouse(tmp_path / f"home{setting}", brand().history, replay_months=setting)
        assert materialise(sop).success
        with connect(sop.warehouse_path, read_only=True) as con:
            months[setting] = con.execute("SELECT count(DISTINCT month) FROM sop.replay").fetchall()[0][0]
            verdicts = [v for (v,) in con.execute("SELECT DISTINCT verdict FROM sop.replay_summary").fetchall()]
        if setting == 0:
            assert verdicts == []  # no row for the cycle; the verdict is in the asset's metadata and the log
    assert months == {4: 4, 0: 0}


def test_a_fact_base_built_for_an_earlier_cycle_is_refused_with_what_to_run(tmp_path):
    sop = warehouse(tmp_path / "home", brand().history, built_for=date(2025, 12, 1))
    with connect(sop.warehouse_path, read_only=True) as con, pytest.raises(
            ReplayError, match="built for cycle 2025-12 .* run sop run --cycle 2026-01 first"):
        read_replay_inputs(con, CYCLE, 12, 12, {"A": 0.98, "B": 0.95, "C": 0.9}, 0.8, 0.95, 6.0, Scenario(CENTRAL))
