"""Publishing: the BI copy and the exports switch together or not at all, and an open reader never blocks a run."""

import errno
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from sop_pipeline.publish import (
    JOURNAL,
    LEGACY_SERVING_FILE,
    SERVING_FILE,
    cycles_in,
    publish,
    published_cycle,
    recover,
)
from sop_pipeline.warehouse import connect

CYCLE = "2026-11-01"
DOCS = {("marts", "t"): ("One row per thing: a test table.", {"v": "The value.", "w": "It's a letter."})}


def _warehouse(path, value):
    with connect(path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE OR REPLACE TABLE marts.t AS SELECT ? AS v, 'x' AS w, '2026-11-01' AS cycle", [value])


def _published(home):
    """(value in the BI copy, value in the cycle's export): what a BI user sees in each."""
    with connect(home / "serving" / SERVING_FILE, read_only=True) as con:
        copy = con.execute("SELECT v FROM marts.t").fetchall()[0][0]
    export = pl.read_parquet(home / "exports" / f"cycle={CYCLE}" / "t.parquet")["v"].to_list()
    return copy, export


def _entries(home):
    """Every file and folder under the home except the warehouse: leftovers show here."""
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.name != "w.duckdb")


def test_the_copy_and_the_exports_are_published_together_and_documented(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    done = publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    assert done.tables == [("marts", "t", 1, 1)]
    assert _published(home) == (1, [1])
    assert published_cycle(home / "serving" / SERVING_FILE) == CYCLE
    assert _entries(home) == ["exports", f"exports/cycle={CYCLE}", f"exports/cycle={CYCLE}/t.parquet",
                              "serving", f"serving/{SERVING_FILE}"]
    with connect(home / "serving" / SERVING_FILE, read_only=True) as con:
        table = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 't'").fetchall()
        columns = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 't'").fetchall())
        meta = con.execute("SELECT * FROM meta.publication").fetchall()
        described = con.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'meta' "
                                "AND comment IS NOT NULL").fetchall()[0][0]
    assert table == [("One row per thing: a test table.",)]
    assert columns == {"v": "The value.", "w": "It's a letter.", "cycle": None}  # a quote survives as text
    assert meta == [(CYCLE, "marts", "t", 1, 1)]
    assert described == 5


def test_the_copy_opens_directly_and_sop_tables_need_no_catalog(tmp_path):
    """A file named sop.duckdb made `sop.forecast` ambiguous (catalog `sop` beside schema `sop`)."""
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    with connect(warehouse) as con:
        con.execute("CREATE SCHEMA sop")
        con.execute("CREATE TABLE sop.forecast AS SELECT DATE '2026-11-01' AS cycle, 5 AS p50")
    publish(warehouse, home, [("sop", "forecast")], CYCLE, serve=True, docs={})
    reader = duckdb.connect(str(home / "serving" / SERVING_FILE), read_only=True)
    try:
        assert reader.execute("SELECT p50 FROM sop.forecast").fetchall() == [(5,)]
    finally:
        reader.close()


def test_the_copy_is_replaced_while_a_reader_holds_the_old_one(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    reader = duckdb.connect(str(home / "serving" / SERVING_FILE), read_only=True)  # a dashboard holding the file
    try:
        _warehouse(warehouse, 2)
        publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
        assert reader.execute("SELECT v FROM marts.t").fetchall()[0][0] == 1  # the reader keeps its snapshot
    finally:
        reader.close()
    assert _published(home) == (2, [2])
    assert len(_entries(home)) == 5  # no staged, old or WAL file left


def test_a_failed_publish_leaves_both_as_they_were_and_nothing_behind(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    before = _entries(home)
    _warehouse(warehouse, 2)
    with pytest.raises(duckdb.Error):
        publish(warehouse, home, [("marts", "t"), ("marts", "missing")], CYCLE, serve=True, docs=DOCS)
    assert _published(home) == (1, [1])
    assert _entries(home) == before


@pytest.mark.parametrize("point", ["publish_exports"])
def test_a_full_disk_while_staging_changes_nothing(tmp_path, monkeypatch, point):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    before = _entries(home)
    _warehouse(warehouse, 2)
    monkeypatch.setenv("SOP_FAULT_POINT", point)
    monkeypatch.setenv("SOP_FAULT_ACTION", "enospc")
    with pytest.raises(OSError) as raised:
        publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    assert raised.value.errno == errno.ENOSPC
    assert _published(home) == (1, [1])
    assert _entries(home) == before


_KILLED_PUBLISH = """
import sys
from pathlib import Path
from sop_pipeline.publish import publish
home = Path(sys.argv[1])
publish(home / "w.duckdb", home, [("marts", "t")], "2026-11-01", serve=True, docs={})
"""


def _killed_publish(home, point):
    """Publish in a child process that is killed (SIGKILL) at a fault point."""
    env = {"SOP_FAULT_POINT": point, "SOP_FAULT_ACTION": "kill", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", _KILLED_PUBLISH, str(home)], env=env, capture_output=True)
    assert done.returncode == -9, done.stderr.decode()


def test_a_kill_before_the_switch_is_rolled_back(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    clean = _entries(home)
    _warehouse(warehouse, 2)
    _killed_publish(home, "publish_exports")
    assert _published(home) == (1, [1])  # nothing switched
    assert _entries(home) != clean  # the staged files of the killed run are there...
    recover(home)
    assert _entries(home) == clean  # ...until the next run removes them
    assert _published(home) == (1, [1])


def test_a_kill_between_the_renames_is_completed_by_the_next_run(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    clean = _entries(home)
    _warehouse(warehouse, 2)
    _killed_publish(home, "publish_swap")
    assert (home / JOURNAL).exists()  # the switch was recorded before it started
    done = recover(home)
    assert done and "completed an interrupted publication" in done[0]
    assert _published(home) == (2, [2])  # both switched: they agree
    assert _entries(home) == clean


def test_recover_removes_only_the_projects_own_leftovers(tmp_path):
    home = tmp_path
    (home / "serving").mkdir()
    (home / "exports" / ".cycle=2026-10-01.4242.tmp").mkdir(parents=True)  # earlier releases' names
    (home / "exports" / ".cycle=2026-10-01.4242.old").mkdir()
    leftovers = [home / "serving" / ".sop.duckdb.4242.tmp.wal", home / "serving" / f".{SERVING_FILE}.staged.wal"]
    kept = [home / "serving" / "notes.txt", home / "exports" / ".keep", home / ".hidden.tmp",
            home / "serving" / LEGACY_SERVING_FILE]
    for path in leftovers + kept:
        path.write_text("x")
    done = recover(home)
    assert len(done) == 4
    assert not any(p.exists() for p in leftovers)
    assert not (home / "exports" / ".cycle=2026-10-01.4242.tmp").exists()
    assert all(p.exists() for p in kept)


def test_a_backfill_exports_its_cycle_and_keeps_the_newer_copy(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    with connect(warehouse) as con:
        con.execute("CREATE OR REPLACE TABLE marts.t AS SELECT 9 AS v, 'x' AS w, '2026-10-01' AS cycle")
    done = publish(warehouse, home, [("marts", "t")], "2026-10-01", serve=False, docs=DOCS)
    assert done.serving is None
    assert _published(home) == (1, [1])
    assert pl.read_parquet(home / "exports" / "cycle=2026-10-01" / "t.parquet")["v"].to_list() == [9]


def test_the_legacy_copy_is_removed_once_the_new_one_is_published(tmp_path):
    """A BI tool pointed at the old name fails loudly instead of reading a copy that no longer changes."""
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    (home / "serving").mkdir()
    (home / "serving" / LEGACY_SERVING_FILE).write_text("old copy")
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS)
    assert not (home / "serving" / LEGACY_SERVING_FILE).exists()


def test_exports_keep_only_the_cycles_rows_in_a_fixed_order(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    with connect(warehouse) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.t AS SELECT * FROM (VALUES (3, '2026-11-01'), (8, '2026-10-01'), "
                    "(1, '2026-11-01')) AS x(v, cycle)")
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=False, docs={})
    first = (home / "exports" / f"cycle={CYCLE}" / "t.parquet").read_bytes()
    assert pl.read_parquet(home / "exports" / f"cycle={CYCLE}" / "t.parquet")["v"].to_list() == [1, 3]
    with connect(warehouse) as con:  # the same rows stored in another order give the same file
        con.execute("CREATE OR REPLACE TABLE marts.t AS SELECT * FROM marts.t ORDER BY v DESC")
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=False, docs={})
    assert (home / "exports" / f"cycle={CYCLE}" / "t.parquet").read_bytes() == first


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


def test_a_page_is_published_with_the_exports_and_switches_with_them(tmp_path):
    home, warehouse = tmp_path, tmp_path / "w.duckdb"
    page = tmp_path / "pack.html"
    _warehouse(warehouse, 1)
    page.write_text("<p>one</p>")
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS, files={"executive_pack.html": page})
    exported = home / "exports" / f"cycle={CYCLE}" / "executive_pack.html"
    assert exported.read_text() == "<p>one</p>"
    # A publication that fails while staging leaves the page published before, with its tables.
    _warehouse(warehouse, 2)
    page.write_text("<p>two</p>")
    with pytest.raises(FileNotFoundError):
        publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS,
                files={"executive_pack.html": page, "missing.html": tmp_path / "absent.html"})
    assert exported.read_text() == "<p>one</p>" and _published(home) == (1, [1])
    publish(warehouse, home, [("marts", "t")], CYCLE, serve=True, docs=DOCS, files={"executive_pack.html": page})
    assert exported.read_text() == "<p>two</p>" and _published(home) == (2, [2])
