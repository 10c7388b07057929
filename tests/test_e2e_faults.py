"""Fault tests: `sop run` killed (SIGKILL) or out of disk at explicit fault points, then run again.

One home is prepared once; each test kills the next run at a later point of the cycle, and the last one
runs the cycle to the end. After every fault: no process of the run is left, nothing half-done is left in
the home, what BI reads (the copy and the exports) is unchanged and agrees with itself, the locked plan is
unchanged and never partly written. The fault points are named in `sop_pipeline/faults.py`; no test sleeps
to guess where a run is.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sop_pipeline.demo.generate import generate_demo
from sop_pipeline.publish import JOURNAL, SERVING_FILE, recover
from sop_pipeline.warehouse import connect, fetch_frame

pytestmark = pytest.mark.e2e

CYCLE = "2026-11-01"
SOP = str(Path(sys.executable).with_name("sop"))
LOCKS = {".run.lock", ".children.lock"}  # the home's lock files: kept on purpose, never leftovers


def sop_run(home: Path, landing: Path, *flags: str, fault: str | None = None, action: str = "kill"):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOP_", "DAGSTER_"))}
    # Four backtest origins and no plan replay: these runs are about what a kill leaves, not about the forecast.
    env.update({"SOP_AS_OF": "2026-11-21", "SOP_BACKTEST_ORIGINS": "4", "SOP_REPLAY_MONTHS": "0"})
    if fault:
        env.update({"SOP_FAULT_POINT": fault, "SOP_FAULT_ACTION": action})
    command = [SOP, "run", "--cycle", CYCLE[:7], "--home", str(home), "--data", str(landing), *flags]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def processes_of(home: Path) -> list[int]:
    """Processes other than this one that run for `home` (dbt inherits SOP_HOME from the run)."""
    marker = f"SOP_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def no_process_left(home: Path) -> bool:
    """The kernel kills a killed run's dbt at once (PR_SET_PDEATHSIG); allow it a moment to exit."""
    deadline = time.monotonic() + 10
    while processes_of(home) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not processes_of(home)


def leftovers(home: Path) -> list[str]:
    """Hidden files and folders the project writes while it works: none may outlive a finished run."""
    return sorted(str(p.relative_to(home)) for p in home.rglob(".*") if p.name not in LOCKS)


def published(home: Path) -> dict[str, str]:
    """A digest of what BI reads: every table of the copy (rows in a fixed order) and every export file."""
    digests = {}
    with connect(home / "serving" / SERVING_FILE, read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
        for schema, table in tables:
            frame = fetch_frame(con, f'SELECT * FROM "{schema}"."{table}" ORDER BY ALL')
            digests[f"copy:{schema}.{table}"] = hashlib.sha256(frame.write_csv().encode()).hexdigest()
    for path in sorted((home / "exports").rglob("*.parquet")):
        digests[f"export:{path.relative_to(home)}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def copy_agrees_with_exports(home: Path) -> bool:
    """The copy's publication record and the cycle's exports describe the same rows."""
    with connect(home / "serving" / SERVING_FILE, read_only=True) as con:
        record = con.execute("SELECT cycle, table_name, cycle_rows FROM meta.publication").fetchall()
        copy_plan = fetch_frame(con, "SELECT * FROM sop.demand_plan WHERE cycle = ? ORDER BY ALL", [CYCLE])
    exports = home / "exports" / f"cycle={CYCLE}"
    if {c for c, _, _ in record} != {CYCLE}:
        return False
    if sorted(p.stem for p in exports.glob("*.parquet")) != sorted(t for _, t, _ in record):
        return False
    if any(pl.read_parquet(exports / f"{t}.parquet").height != n for _, t, n in record):
        return False
    export_plan = pl.read_parquet(exports / "demand_plan.parquet").sort(pl.all())
    return export_plan.equals(copy_plan.sort(pl.all()))


def locked_plan(home: Path) -> pl.DataFrame:
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        return fetch_frame(con, "SELECT * FROM sop.demand_plan WHERE cycle = ? ORDER BY ALL", [CYCLE])


def runs_by_status(home: Path) -> dict[str, int]:
    code = ("import collections, json, dagster as dg; i = dg.DagsterInstance.get(); "
            "print(json.dumps(collections.Counter(r.status.value for r in i.get_runs())))")
    env = {**os.environ, "DAGSTER_HOME": str(home / "dagster")}
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home with the cycle run once: a published copy, exports and a locked plan (version 1)."""
    root = tmp_path_factory.mktemp("faults")
    generate_demo(root / "landing", skus=20, months=28, seed=5, cycle=date(2026, 11, 1))
    done = sop_run(root / "home", root / "landing")
    assert done.returncode == 0, done.stderr
    return {"home": root / "home", "landing": root / "landing", "before": published(root / "home"),
            "plan": locked_plan(root / "home")}


def assert_nothing_changed(state, done):
    home = state["home"]
    assert done.returncode == -9, done.stderr  # killed at the fault point, not failed or finished
    assert no_process_left(home)
    assert all(".staged" in p for p in leftovers(home)), leftovers(home)  # at most a killed publication's
    recover(home)  # what the next run does before anything else
    assert leftovers(home) == []
    assert published(home) == state["before"]
    assert copy_agrees_with_exports(home)
    assert locked_plan(home).equals(state["plan"])


def test_a_run_killed_while_dbt_builds_leaves_no_dbt_behind(home):
    done = sop_run(home["home"], home["landing"], fault="dbt_running")
    assert_nothing_changed(home, done)


def test_a_run_killed_while_the_forecast_writes_changes_nothing_published(home):
    done = sop_run(home["home"], home["landing"], fault="forecast")
    assert_nothing_changed(home, done)


def test_a_draft_rebuild_killed_right_after_the_lock_keeps_every_version_whole(home):
    # The demand review lands a changed override: the rerun rebuilds the draft as version 2. The file stays
    # changed, so the later runs of this module rebuild the same draft and write no other version.
    overrides = home["landing"] / "overrides" / "overrides.csv"
    frame = pl.read_csv(overrides, infer_schema=False)
    first = frame.with_row_index().filter((pl.col("cycle") == CYCLE) & (pl.col("sku") != ""))["index"][0]
    frame.with_columns(pl.when(pl.int_range(pl.len()) == first).then(pl.lit("4321")).otherwise(pl.col("quantity"))
                       .alias("quantity")).write_csv(overrides)
    done = sop_run(home["home"], home["landing"], fault="after_lock")
    assert done.returncode == -9, done.stderr
    assert no_process_left(home["home"])
    plan = locked_plan(home["home"])
    # The draft's transaction committed before the kill: version 2 is whole and current, version 1 untouched.
    assert plan.filter(pl.col("version") == 1).drop("is_current").equals(home["plan"].drop("is_current"))
    assert plan.filter(pl.col("version") == 2).height == home["plan"].height
    assert plan.filter(pl.col("is_current"))["version"].unique().to_list() == [2]
    assert published(home["home"]) == home["before"]  # nothing published: the run never got there
    home["plan"] = plan


def test_a_publication_killed_between_its_renames_is_completed_before_the_next_run(home):
    done = sop_run(home["home"], home["landing"], "--scenarios-only", fault="publish_swap")
    assert done.returncode == -9, done.stderr
    assert no_process_left(home["home"])
    assert (home["home"] / JOURNAL).exists()
    recover(home["home"])
    assert leftovers(home["home"]) == []
    assert copy_agrees_with_exports(home["home"])  # both switched to the new publication
    assert locked_plan(home["home"]).equals(home["plan"])
    home["before"] = published(home["home"])


def test_a_full_disk_while_publishing_changes_nothing_and_says_why(home):
    done = sop_run(home["home"], home["landing"], "--scenarios-only", fault="publish_exports", action="enospc")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()
    assert "No space left on device" in last[-1], done.stderr
    assert any("nothing was published" in line for line in last), done.stderr
    assert leftovers(home["home"]) == []
    assert published(home["home"]) == home["before"]
    assert copy_agrees_with_exports(home["home"])


def test_the_run_after_the_faults_succeeds_and_fails_the_dead_runs(home):
    """The re-lock run above already got past dbt and the forecast after their kills; this one publishes."""
    done = sop_run(home["home"], home["landing"], "--scenarios-only")
    assert done.returncode == 0, done.stderr
    assert no_process_left(home["home"])
    assert leftovers(home["home"]) == []
    assert copy_agrees_with_exports(home["home"])
    assert locked_plan(home["home"]).equals(home["plan"])
    statuses = runs_by_status(home["home"])
    assert "STARTED" not in statuses and "STARTING" not in statuses, statuses
    assert statuses.get("FAILURE", 0) == 5, statuses  # four killed runs, marked failed; one out of disk
