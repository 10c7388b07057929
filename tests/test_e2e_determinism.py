"""End to end: the same cycle on the same inputs publishes the same bytes, and its tables agree on stockouts.

Two fresh homes run the November cycle of one small demo landing folder (the session's `fresh_november`: one
through `sop run`'s code path, one through Dagster's own CLI); a rerun on one home is compared in
test_e2e_cycle.py (`test_rerunning_a_cycle_publishes_the_same_bytes`). Every published table must be
identical: the BI copy's schemas `marts` and `sop` (compared by a digest of their sorted rows, so that a
table's storage order does not count) and every Parquet export file of the cycle (compared byte for byte:
that is what a BI tool or a downstream job reads). A float summed in another order differs in its last bits
and fails this test.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sop_pipeline.config import SopConfig
from sop_pipeline.outputs import OUTPUT_TABLES
from sop_pipeline.supply.projection import TOLERANCE
from sop_pipeline.supply.status import stockout_disagreements
from tests.test_e2e_cycle import published_bytes

pytestmark = pytest.mark.e2e

CYCLE = date(2026, 11, 1)


def published(sop: SopConfig) -> dict[str, dict[str, object]]:
    return published_bytes(sop, CYCLE)


@pytest.fixture(scope="module")
def runs(fresh_november):
    """Two fresh homes that ran the same cycle on the same files (one by `sop run`, one by Dagster's CLI)."""
    first, second = fresh_november["sop"], fresh_november["cli"]
    return {"published": {"first": published(first), "second": published(second)}, "first": first}


def test_every_output_table_is_published_and_exported(runs):
    """The comparisons below cover every table: none is missing from the copy or the exports."""
    first = runs["published"]["first"]
    outputs = {t.name for t in OUTPUT_TABLES}
    assert {f"sop.{name}" for name in outputs} <= set(first["serving"])
    assert any(name.startswith("marts.") for name in first["serving"])
    exported = {Path(name).stem for name in first["exports"]}
    assert outputs <= exported
    assert {name.split(".", 1)[1] for name in first["serving"]} <= exported  # every table has its Parquet file


@pytest.mark.parametrize("other", ["second"])
def test_the_serving_copy_is_identical(runs, other):
    first, again = runs["published"]["first"]["serving"], runs["published"][other]["serving"]
    assert set(again) == set(first)
    assert [name for name in first if again[name] != first[name]] == []


@pytest.mark.parametrize("other", ["second"])
def test_every_parquet_export_is_byte_identical(runs, other):
    first, again = runs["published"]["first"]["exports"], runs["published"][other]["exports"]
    assert set(again) == set(first)
    assert [name for name in first if again[name] != first[name]] == []


def _cycle_rows(path: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(path / f"{table}.parquet").filter(pl.col("cycle") == CYCLE)


def test_every_table_names_the_same_stockouts(runs):
    """Per scenario: status stockout = a stockout exception = sku_status.shortfall > 0 = a short projection
    month ⊇ a `shortfall` supply gap; gaps are the projection's gap months, typed by their shortfall
    (sop_pipeline.supply.status.stockout_disagreements). Read from the exports, as BI reads them."""
    exports = runs["first"].exports_path / f"cycle={CYCLE.isoformat()}"
    tables = {name: _cycle_rows(exports, name) for name in ("sku_status", "exceptions", "supply_gaps",
                                                            "inventory_projection")}
    status = tables["sku_status"]
    assert status.filter(pl.col("status") == "stockout").height > 0  # the invariant is not met vacuously
    assert tables["supply_gaps"]["gap_type"].unique().sort().to_list() == ["below_safety_stock", "shortfall"]
    assert stockout_disagreements(tables["sku_status"], tables["exceptions"], tables["supply_gaps"],
                                  tables["inventory_projection"]) == []


def test_the_grid_counts_and_values_the_same_stockouts(runs):
    """The scenario grid's stockout count, service level and lost revenue agree with the stockout rows."""
    exports = runs["first"].exports_path / f"cycle={CYCLE.isoformat()}"
    grid = _cycle_rows(exports, "scenario_summary")
    status = _cycle_rows(exports, "sku_status")
    stockouts = _cycle_rows(exports, "exceptions").filter(pl.col("exception_type") == "stockout")
    for row in grid.iter_rows(named=True):
        scenario = row["scenario"]
        mine = status.filter(pl.col("scenario") == scenario)
        lost = stockouts.filter(pl.col("scenario") == scenario)
        assert row["skus_stockout"] == mine.filter(pl.col("status") == "stockout").height == lost.height
        assert (row["service_level"] < 1) == (row["skus_stockout"] > 0), scenario
        assert lost["units"].sum() == pytest.approx(mine["shortfall"].sum(), abs=TOLERANCE)
        assert lost["units"].sum() == pytest.approx(row["demand_units"] - row["fulfilled_units"], abs=1e-6)
        assert lost["severity"].sum() == pytest.approx(row["lost_revenue"], abs=1e-6)
