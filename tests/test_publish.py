"""Publishing: BI reads a copy that is swapped in whole, and an open reader never blocks a run."""

import duckdb
import polars as pl

from sop_pipeline.publish import cycles_in, export_parquet, publish_serving_copy, published_cycle
from sop_pipeline.warehouse import connect


def _warehouse(path, value):
    with connect(path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE OR REPLACE TABLE marts.t AS SELECT ? AS v, 'x' AS w, '2026-11-01' AS cycle", [value])


def test_serving_copy_is_replaced_while_a_reader_holds_the_old_one(tmp_path):
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "serving" / "sop.duckdb"
    _warehouse(warehouse, 1)
    assert publish_serving_copy(warehouse, serving, [("marts", "t")], "2026-11-01") == [("marts", "t", 1)]
    reader = duckdb.connect(str(serving), read_only=True)  # a dashboard holding the file open
    try:
        _warehouse(warehouse, 2)
        publish_serving_copy(warehouse, serving, [("marts", "t")], "2026-11-01")
        assert reader.execute("SELECT v FROM marts.t").fetchall()[0][0] == 1  # the reader keeps its snapshot
    finally:
        reader.close()
    with connect(serving, read_only=True) as con:
        assert con.execute("SELECT v FROM marts.t").fetchall()[0][0] == 2
    assert sorted(p.name for p in serving.parent.iterdir()) == ["sop.duckdb"]  # no temporary file left


def test_a_failed_publish_leaves_the_previous_copy(tmp_path):
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "serving" / "sop.duckdb"
    _warehouse(warehouse, 1)
    publish_serving_copy(warehouse, serving, [("marts", "t")], "2026-11-01")
    try:
        publish_serving_copy(warehouse, serving, [("marts", "t"), ("marts", "missing")], "2026-11-01")
    except duckdb.Error:
        pass
    else:
        raise AssertionError("publishing a missing table must fail")
    with connect(serving, read_only=True) as con:
        assert con.execute("SELECT v FROM marts.t").fetchall()[0][0] == 1
    assert sorted(p.name for p in serving.parent.iterdir()) == ["sop.duckdb"]


def test_parquet_exports_replace_the_cycle_folder(tmp_path):
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "exports" / "cycle=2026-11-01"
    _warehouse(warehouse, 7)
    folder.mkdir(parents=True)
    (folder / "stale.parquet").write_bytes(b"old")
    with connect(warehouse) as con:
        con.execute("INSERT INTO marts.t VALUES (8, 'y', '2026-10-01')")  # another cycle's row stays out
    written = export_parquet(warehouse, folder, [("marts", "t")], "2026-11-01")
    assert written == [folder / "t.parquet"]
    assert sorted(p.name for p in folder.iterdir()) == ["t.parquet"]
    assert pl.read_parquet(folder / "t.parquet").to_dicts() == [{"v": 7, "w": "x", "cycle": "2026-11-01"}]


def test_cycles_in_lists_what_each_table_holds(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    with connect(warehouse) as con:
        con.execute("CREATE TABLE marts.no_cycle AS SELECT 1 AS v")
        con.execute("CREATE TABLE marts.two AS SELECT * FROM (VALUES ('2026-10-01'), ('2026-11-01')) AS x(cycle)")
    found = cycles_in(warehouse, [("marts", "t"), ("marts", "no_cycle"), ("marts", "two")])
    assert found == {"marts.t": ["2026-11-01"], "marts.two": ["2026-10-01", "2026-11-01"]}
    assert published_cycle(tmp_path / "absent.duckdb") is None
    assert published_cycle(warehouse) is None  # a copy without the publication record
