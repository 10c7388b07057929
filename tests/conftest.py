"""Shared fixtures and the suite's plan.

- A tiny, hand-written landing folder that meets the contract (`tiny_landing`).
- The end-to-end demo's landing folder and its fresh November homes, prepared once per session and shared read-only
  by every worker (`demo_landing`, `fresh_november`; see tests/prepared.py).
- The dbt manifest, refreshed once per session instead of before every run; OpenMP threads that sleep.
- Groups and order for pytest-xdist.

How and why: docs/development.md, "How the suite runs".
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from prepared import build_once

# OpenMP threads (LightGBM's) wait for work by sleeping, not spinning. Two workers, each with LightGBM's two threads,
# share two cores: spinning threads then take the core from the thread with work, and a fit ran 20x slower on a busy
# machine (docs/development.md, "How the suite runs"). Results do not change. Set before any test imports LightGBM.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The suite on several workers (pytest-xdist, `-n auto --dist loadscope` in pyproject.toml): each group runs whole on
# one worker, in file order. The tests of a module that use a module fixture are a group, so the fixture is built
# once; any other test is a group of its own. A test marked `@pytest.mark.xdist_group(name)` joins that group: the
# end-to-end tests that work on their own copy of a prepared home are so split off their module, so that another
# worker can run them beside it. The end-to-end groups are handed out first, in this order (the
# longest chains first, so that no worker is left alone with one at the end), then the other groups as collected.
FIRST_GROUPS = ("e2e_cycle", "e2e_determinism", "e2e_faults", "e2e_approve", "e2e_cut", "e2e_forecast_only")
GROUPS_FILE = "xdist_groups_{worker}.json"  # each worker's groups, read by the scheduler below
DBT_PROJECT = Path(__file__).parents[1] / "dbt_project"


def module_group(nodeid: str) -> str:
    """A module's group: its file name without `test_` and `.py`."""
    return Path(nodeid.split("::", 1)[0]).stem.removeprefix("test_")


def xdist_group(item: pytest.Item) -> str:
    """The item's group: its own `xdist_group` mark; else its module's, if it uses a fixture built once per module
    (or class); else the test alone, which any worker may take."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    definitions = item._fixtureinfo.name2fixturedefs
    if any(definitions[name][-1].scope in ("module", "class", "package") for name in item.fixturenames
           if definitions.get(name)):
        return module_group(item.nodeid)
    return item.nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Put the end-to-end groups first (file order within a group); on an xdist worker, write down each test's group
    for the scheduler, which sees test ids only."""
    rank = {group: index for index, group in enumerate(FIRST_GROUPS)}
    items.sort(key=lambda item: rank.get(xdist_group(item), len(rank)))  # stable: file order within a group
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        groups = {item.nodeid: xdist_group(item) for item in items}
        (Path(config.option.basetemp).parent / GROUPS_FILE.format(worker=worker["workerid"])).write_text(
            json.dumps(groups))


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` with a test's group as its scope (see FIRST_GROUPS), handed out in collection order.

    This is what `--dist loadgroup` with `xdist_group` marks would do, but pytest-xdist 3.8 cannot group on pytest 9.2
    (it renames the test ids, which pytest 9.2 no longer allows: pytest-dev/pytest-xdist#1386), and it would spread a
    module's unmarked tests one by one, building its module fixtures on each worker."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # the workers have collected (and written their files) before any scheduling
                self.groups = {}
                for path in sorted(config._tmp_path_factory.getbasetemp().glob(GROUPS_FILE.format(worker="*"))):
                    self.groups.update(json.loads(path.read_text()))
            return self.groups.get(nodeid) or module_group(nodeid)

    config.option.loadscopereorder = False  # the collection order above, not the largest group first
    return GroupScheduling(config, log)


def _manifest_is_stale() -> bool:
    manifest = DBT_PROJECT / "target" / "manifest.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    skip = {"target", "logs", "dbt_packages"}
    return any(path.stat().st_mtime > built for path in DBT_PROJECT.rglob("*")
               if path.is_file() and not skip & set(path.relative_to(DBT_PROJECT).parts))


def pytest_configure(config):
    """Refresh the dbt manifest once, before any worker starts, if a file of the dbt project is newer than it."""
    if not hasattr(config, "workerinput") and _manifest_is_stale():
        from sop_pipeline.cli import prepare_manifest

        prepare_manifest()


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest_prepared_once(tmp_path_factory):
    """`sop run` refreshes the dbt manifest (`dbt parse`, 5-10 s) before every run; the session refreshed it once at
    its start (pytest_configure), so runs in this process skip it. Runs in a subprocess still parse, into a folder
    of their own (DBT_TARGET_PATH): no run reads dbt_project/target/manifest.json while another rewrites it."""
    from sop_pipeline import cli

    saved, real = os.environ.get("DBT_TARGET_PATH"), cli.prepare_manifest
    target = tmp_path_factory.mktemp("dbt_parse")
    state = DBT_PROJECT / "target" / "partial_parse.msgpack"
    if state.exists():  # their first parse is then a partial one too
        shutil.copy2(state, target / state.name)
    os.environ["DBT_TARGET_PATH"] = str(target)
    cli.prepare_manifest = lambda: None
    yield
    cli.prepare_manifest = real
    if saved is None:
        os.environ.pop("DBT_TARGET_PATH", None)
    else:
        os.environ["DBT_TARGET_PATH"] = saved


AS_OF = date(2026, 11, 21)

# Every value is text, as a user's export would be. Two SKUs, one month of history.
TINY_LANDING: dict[str, dict[str, list[str]]] = {
    "products": {
        "sku": ["A-1", "B-1"],
        "name": ["Candle A", "Soap B"],
        "family": ["Candles", "Soaps"],
        "unit_cost": ["4.00", "1.50"],
        "unit_price": ["12.00", "5.00"],
        "supplier": ["SUP-01", "SUP-02"],
        "lead_time_days": ["30", "60"],
        "moq": ["100", "200"],
        "order_multiple": ["50", "100"],
        "status": ["active", "active"],
        "launch_date": ["2025-01-01", "2025-06-01"],
        "discontinue_date": ["", ""],
    },
    "sales": {
        "date": ["2026-10-03", "2026-10-04", "2026-10-20"],
        "sku": ["A-1", "A-1", "B-1"],
        "channel": ["DTC", "Wholesale", "DTC"],
        "quantity": ["3", "10", "4"],
        "net_revenue": ["36.00", "66.00", "20.00"],
    },
    "missing_months": {
        "sku": ["B-1"],
        "month": ["2026-09-01"],
        "reason": ["ERP migration gap"],
    },
    "inventory": {
        "snapshot_date": ["2026-10-31", "2026-10-31"],
        "sku": ["A-1", "B-1"],
        "location": ["WH-MAIN", "WH-MAIN"],
        "on_hand": ["120", "0"],
    },
    "purchase_orders": {
        "po_id": ["PO-1"],
        "sku": ["B-1"],
        "order_date": ["2026-10-01"],
        "expected_date": ["2026-12-01"],
        "quantity": ["400"],
        "received_quantity": ["0"],
        "status": ["open"],
        "unit_cost": ["1.40"],
    },
    "suppliers": {
        "supplier": ["SUP-01", "SUP-02"],
        "monthly_capacity": ["5000", "3000"],
        "deposit_share": ["0.3", "0"],
        "payment_days": ["30", "60"],
    },
    "events": {
        "event_id": ["EV-1"],
        "event_type": ["promotion"],
        "sku": [""],
        "family": ["Candles"],
        "channel": ["DTC"],
        "start_date": ["2026-11-24"],
        "end_date": ["2026-11-30"],
        "uplift_pct": ["0.3"],
    },
    "overrides": {
        "cycle": ["2026-11-01"],
        "sku": ["A-1"],
        "family": [""],
        "month": ["2026-12-01"],
        "quantity": ["40"],
        "percent": [""],
        "reason": ["Retailer listing"],
        "owner": ["maria"],
    },
    "budget": {
        "month": ["2026-11-01", "2026-11-01"],
        "family": ["Candles", "Soaps"],
        "revenue_target": ["1000", "200"],
    },
}


def write_landing(folder: Path, data: dict[str, dict[str, list[str]]]) -> Path:
    """Write each data set as folder/<name>/<name>.csv with every cell as text."""
    for name, columns in data.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        pl.DataFrame(columns, schema={c: pl.String for c in columns}).write_csv(folder / name / f"{name}.csv")
    return folder


@pytest.fixture
def tiny_landing(tmp_path: Path) -> Path:
    return write_landing(tmp_path / "landing", TINY_LANDING)


@pytest.fixture
def restore_environ():
    """Runs set SOP_* and DAGSTER_HOME for their subprocesses; put the environment back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def run_cycle_in_process(sop, cycle: date, **kwargs) -> bool:
    """`sop run`'s code path in this process; it sets SOP_* and DAGSTER_HOME for its subprocesses, so the
    environment is put back afterwards."""
    from sop_pipeline.cli import run_cycle

    saved = dict(os.environ)
    try:
        return run_cycle(sop, cycle, **kwargs)
    finally:
        os.environ.clear()
        os.environ.update(saved)


# The end-to-end demo: one small brand, the same files wherever a test generates it.
E2E_CYCLE = date(2026, 11, 1)
E2E_DEMO = {"skus": 40, "months": 30, "seed": 11}


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory) -> Path:
    """The end-to-end demo's landing folder (E2E_DEMO, November cycle), written once per session. Read only: a test
    or module that changes input files copies it first (tests/prepared.py: copy_tree)."""
    from sop_pipeline.demo.generate import generate_demo

    folder, _ = build_once(tmp_path_factory, "demo_landing",
                           lambda folder: generate_demo(folder, cycle=E2E_CYCLE, **E2E_DEMO))
    return folder


@pytest.fixture(scope="session")
def fresh_november(tmp_path_factory, demo_landing):
    """The November cycle of the end-to-end demo, each on a fresh home: once through `sop run`'s code path and
    once through Dagster's own CLI. Shared by the tests that compare runs, so each runs the cycle only once per
    session (whichever worker asks first runs them). Two fresh, independent homes: nothing one run left (a cache
    in its home) can reach the other. Read only."""
    import subprocess
    import sys

    from sop_pipeline.config import SopConfig

    def config(home: Path) -> SopConfig:
        return SopConfig.from_env(env={}, home=str(home), data_dir=str(demo_landing), as_of="2026-11-21")

    def build(root: Path) -> None:
        assert run_cycle_in_process(config(root / "sop_run"), E2E_CYCLE)
        (root / "dagster").mkdir()
        # Only what the run is given: no SOP_* setting or DAGSTER_HOME of this process reaches the CLI's run.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOP_", "DAGSTER_"))}
        env.update({"SOP_HOME": str(root / "dagster_cli"), "SOP_DATA_DIR": str(demo_landing),
                    "SOP_AS_OF": "2026-11-21", "DAGSTER_HOME": str(root / "dagster")})
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "sop_pipeline.definitions",
             "--select", "*", "--partition", E2E_CYCLE.isoformat()],
            env=env, capture_output=True, text=True, cwd=Path(__file__).parents[1],
        )
        assert done.returncode == 0, done.stderr[-3000:]

    root, _ = build_once(tmp_path_factory, "fresh_november", build)
    return {"landing": demo_landing, "sop": config(root / "sop_run"), "cli": config(root / "dagster_cli")}
