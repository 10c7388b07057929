"""`sop`: write demo data or import series, validate a landing folder, and run a planning cycle from the shell."""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import time
import traceback
import warnings
from contextlib import contextmanager, redirect_stdout
from datetime import date
from pathlib import Path

from typing import TYPE_CHECKING

from sop_pipeline.cycle import parse_cycle
from sop_pipeline.dbt_paths import DBT_PROJECT_DIR, dbt_executable

if TYPE_CHECKING:  # the configuration imports Dagster: `sop --help` and usage errors must not wait for it
    from sop_pipeline.config import SopConfig

CHILDREN_WAIT_SECONDS = 60  # how long a run waits for the dbt of a killed earlier run to exit (it is killed too)

# Written into a fresh DAGSTER_HOME: one run at a time (one writer on the warehouse), no telemetry.
DAGSTER_YAML = """\
run_queue:
  max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def prepare_manifest() -> None:
    """Refresh the dbt manifest with `dbt parse`: no database connection, a few seconds."""
    # No log file: it would grow inside the code folder on every run.
    command = [dbt_executable(), "--log-level-file", "none", "parse", "--quiet",
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dbt parse failed:\n{done.stdout}{done.stderr}")


def prepare_dagster_home(sop: SopConfig) -> Path:
    """Use DAGSTER_HOME if set, else $SOP_HOME/dagster, so CLI runs show in the UI's history."""
    home = Path(os.environ.get("DAGSTER_HOME") or sop.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextmanager
def run_lock(sop: SopConfig):
    """One writer at a time on a SOP_HOME: a second `sop run` fails at once with a clear message. The lock
    is taken only once every dbt child of an earlier run has exited (see sop_pipeline/dbt_child.py)."""
    from sop_pipeline.dbt_child import CHILDREN_LOCK

    sop.home_path.mkdir(parents=True, exist_ok=True)
    with open(sop.home_path / ".run.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another run is writing to {sop.home_path}; wait for it to finish") from None
        with open(sop.home_path / CHILDREN_LOCK, "a") as children:
            deadline = time.monotonic() + CHILDREN_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(children, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"a dbt process of an earlier run still writes to {sop.home_path}: "
                                         "stop it, then run again") from None
                    time.sleep(0.1)
            fcntl.flock(children, fcntl.LOCK_UN)
        yield


def tidy_home(sop: SopConfig, instance) -> list[str]:
    """Before a run writes anything: fail the runs a killed process left started, finish a publication it
    left half-switched, and remove its leftovers. Returns what was done, for the log."""
    from sop_pipeline.publish import recover
    from sop_pipeline.runs import fail_dead_runs

    done = [f"marked run {run_id} failed: its process had died" for run_id in fail_dead_runs(instance)]
    return done + recover(sop.home_path)


def _root_cause(error) -> str:
    """The innermost error of a Dagster error chain: the real cause (a full disk, not a step error)."""
    while error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message.strip()}" if error.cls_name else error.message.strip()


def _failure_messages(result) -> list[str]:
    messages = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            messages.append(f"[{event.step_key}] {data.user_failure_data.description}")
        elif data.error is not None:
            messages.append(f"[{event.step_key}] {_root_cause(data.error)}")
    return messages


def _published_note(sop: SopConfig, before: tuple) -> str:
    """Whether the failed run changed what BI reads (it never should, but say what is true)."""
    after = _published_state(sop)
    return "nothing was published" if after == before else "the published copy and exports were updated"


def _published_state(sop: SopConfig) -> tuple:
    serving = sop.serving_path
    exports = sop.exports_path
    stamp = serving.stat().st_mtime_ns if serving.exists() else None
    folders = sorted((p.name, p.stat().st_mtime_ns) for p in exports.iterdir()) if exports.is_dir() else []
    return stamp, folders


def run_cycle(sop: SopConfig, cycle: date, verbose: bool = False, scenarios_only: bool = False,
              brief: bool = False, before=None, command: str | None = None, relock: bool = False) -> bool:
    """Materialise every asset of one cycle's partition in this process (or, with `scenarios_only`, the
    scenarios and the publication from the cycle's plan of record); print the outcome (one line if `brief`).
    `before`, if given, is called once the home is locked, before the run starts (`sop approve` writes its
    approval there, so no other run can come between the approval and the tables recomputed from it).
    `relock` rebuilds the draft of an approved cycle (the demand plan's run config)."""
    os.environ.update(sop.env())  # dbt and any subprocess see the same configuration
    prepare_dagster_home(sop)
    prepare_manifest()
    import dagster as dg  # imported late: loading definitions needs the manifest prepared above

    with warnings.catch_warnings():
        # One cycle per backfill run is deliberate; Dagster marks the parameter beta.
        warnings.simplefilter("ignore", dg.BetaWarning)
        from sop_pipeline.definitions import build_definitions
    from sop_pipeline.defs.plan import relock_run_config
    from sop_pipeline.runs import process_tags
    from sop_pipeline.summary import print_brief, print_summary

    log_level = "DEBUG" if verbose else "WARNING"
    log_path = sop.home_path / "logs" / f"run_{cycle.isoformat()}.log"
    with run_lock(sop), dg.DagsterInstance.get() as instance:
        for done in tidy_home(sop, instance):
            print(done, flush=True)
        if before is not None:
            before()
        published_before = _published_state(sop)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        definitions = build_definitions(sop)
        job = definitions.resolve_job_def("monthly_cycle")
        selection = None
        if scenarios_only:
            from sop_pipeline.defs.publish import serving_copy
            from sop_pipeline.defs.scenarios import scenario_stage

            from sop_pipeline.defs.pack import pack_stage

            # The pack shows the scenarios, so it is rebuilt with them (its KPI history and bridge too).
            selection = sorted([*scenario_stage.keys, *pack_stage.keys, *serving_copy.keys])
        print(f"Running cycle {cycle.isoformat()} on {sop.landing_path} → {sop.home_path} …", flush=True)
        # dbt's own output (hundreds of lines) goes to the run's log file unless --verbose.
        with open(log_path, "w") as log, redirect_stdout(sys.stdout if verbose else log):
            result = job.execute_in_process(
                partition_key=cycle.isoformat(),
                instance=instance,
                asset_selection=selection,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}},
                            **(relock_run_config() if relock else {})},
                tags={"sop/command": command or ("scenarios-only" if scenarios_only else
                                                 ("relock" if relock else "run")),
                      **process_tags()},
            )
    if not result.success:
        messages = _failure_messages(result)
        print(f"\nCycle {cycle.isoformat()} FAILED; {_published_note(sop, published_before)}. "
              f"dbt output: {log_path}", file=sys.stderr)
        for message in messages:
            print(message, file=sys.stderr)
        return False
    if brief:
        print_brief(sop, cycle.isoformat(), result)
    else:
        print_summary(sop, cycle.isoformat(), result, verbose=verbose)
    return True


def _cmd_demo_data(args) -> int:
    from sop_pipeline.demo.generate import DEMO_CYCLE, generate_demo

    cycle = parse_cycle(args.cycle) if args.cycle else DEMO_CYCLE
    counts = generate_demo(Path(args.out), skus=args.skus, months=args.months, seed=args.seed, cycle=cycle)
    print(f"Demo data for cycle {cycle.isoformat()} written to {args.out}:")
    for name, rows in counts.items():
        print(f"  {name:<16} {rows:>9,} rows")
    return 0


def _cmd_decide(args) -> int:
    from sop_pipeline.plan.decisions import write_decision

    sop = _config(data_dir=args.data)
    changes = {"cycle": parse_cycle(args.cycle).isoformat() if args.cycle else None, "decision": args.decision,
               "owner": args.owner, "due_date": args.due, "status": args.status, "sku": args.sku,
               "family": args.family, "exception_type": args.exception}
    if args.decision_id is None and not (args.cycle and args.decision and args.owner):
        raise ValueError("a new decision needs --cycle, --decision and --owner (or --id to update one)")
    if args.decision_id is not None and args.cycle:
        raise ValueError("--cycle is the meeting that took a decision: it cannot change; give --id and the fields to update")
    decision_id = write_decision(sop.landing_path, sop.as_of_date(), changes, args.decision_id)
    verb = "updated" if args.decision_id else "recorded"
    print(f"decision {decision_id} {verb} in {sop.landing_path / 'decisions' / 'decisions.csv'}; "
          "the next run publishes it in sop.decisions")
    return 0


def _cmd_validate(args) -> int:
    from sop_pipeline.defs.ingest import scenario_names
    from sop_pipeline.ingest.validate import load_inputs

    sop = _config(data_dir=args.data)
    result = load_inputs(sop.landing_path, sop.as_of_date(), sop.earliest_date(sop.as_of_date().replace(day=1)),
                         sop.history_years, scenarios=scenario_names(sop))
    if result.ok:
        print(f"{sop.landing_path}: every data set meets the contract.")
        for dataset, frame in result.frames.items():
            print(f"  {dataset.name:<16} {frame.height:>9,} rows")
        return 0
    # Every violation once, in file and row order; `sop validate` checks only, so it claims nothing about a run.
    print(f"{len(result.violations)} input violation(s): {sop.landing_path} does not meet the input contract.",
          file=sys.stderr)
    for violation in result.violations:
        print(f"  {violation.message()}", file=sys.stderr)
    return 1


def _cmd_import_series(args) -> int:
    from sop_pipeline.ingest.series import SeriesError, import_series, next_cycle

    source, out = Path(args.file), Path(args.out)
    if not source.is_file():
        raise ValueError(f"{source}: no such file")
    until = parse_cycle(args.until) if args.until else None
    try:
        result = import_series(source, out, family=args.family, until=until)
    except SeriesError as err:
        print(err, file=sys.stderr)
        return 1
    first, last = result.first_month, result.last_month
    print(f"{result.series:,} series of {source} written to {out} as a landing folder, "
          f"{first:%Y-%m} to {last:%Y-%m}" + (f" (cut before {until:%Y-%m})" if until else "") + ":")
    print(f"  {'products':<16} {result.series:>9,} rows (a SKU per series; neutral price, cost and lead time)")
    print(f"  {'sales':<16} {result.sales.height:>9,} rows (one per series and month with a known value)")
    print(f"  {'missing_months':<16} {result.missing_months.height:>9,} rows (unknown values: missing, not zero)")
    if result.without_values:
        shown = ", ".join(result.without_values[:5]) + (", …" if len(result.without_values) > 5 else "")
        print(f"{len(result.without_values)} series have no known value and get no forecast: {shown}")
    print(f"No stock, purchase orders or suppliers: the cycle runs in forecast-only mode, e.g.\n"
          f"  sop run --cycle {next_cycle(result):%Y-%m} --data {out}")
    return 0


class PreflightError(ValueError):
    """What makes a run impossible, found before anything starts or is created."""


def preflight(sop: SopConfig, cycle: date) -> None:
    """Check in seconds, before Dagster starts and before anything is created in the home, what can be
    checked without reading the data: the cycle, the configuration, the folders, each landing file's
    readability and header, and the scenario file."""
    from sop_pipeline.ingest.contract import DATASETS
    from sop_pipeline.scenarios import ScenarioError, load_scenarios

    problems = [f"configuration: {p}" for p in sop.problems()]
    try:
        check_cycle_is_open(cycle)
    except ValueError as err:
        problems.append(str(err))
    landing = sop.landing_path
    if not landing.is_dir():
        problems.append(f"{landing}: the landing folder does not exist" if not landing.exists()
                        else f"{landing}: the landing folder is not a folder")
    else:
        for dataset in DATASETS:
            problems += _landing_problems(landing, dataset)
    try:
        load_scenarios(sop.scenarios_path)
    except ScenarioError as err:
        problems.append(f"scenario file: {err}")
    home = sop.home_path
    existing = next(p for p in (home, *home.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        problems.append(f"{home}: cannot write the home folder here ({existing} is not a writable folder)")
    if problems:
        raise PreflightError("the run cannot start:\n  - " + "\n  - ".join(problems))


def _landing_problems(landing: Path, dataset) -> list[str]:
    """A required data set without a file, or a file that cannot be opened or has no header line."""
    from sop_pipeline.ingest.validate import landing_files

    files = landing_files(landing, dataset)
    if not files:
        return [] if dataset.optional else [f"{landing / dataset.name}/: required data set is missing "
                                            "(no CSV or Parquet file)"]
    problems = []
    for path in files:
        try:
            with open(path, "rb") as handle:
                first = handle.read(4096)
        except OSError as err:
            problems.append(f"{path}: cannot read the file ({err.strerror})")
            continue
        if not first.strip():
            problems.append(f"{path}: the file is empty (expected a header row)")
    return problems


def check_cycle_is_open(cycle: date) -> None:
    """A cycle exists from its month's first day on; refuse a later one before Dagster does, clearly."""
    from sop_pipeline.defs.partitions import FIRST_CYCLE, cycles

    if cycle.isoformat() not in cycles.get_partition_keys():
        raise ValueError(f"cycle {cycle.isoformat()} is not open: cycles run from {FIRST_CYCLE} (SOP_FIRST_CYCLE) "
                         "to the current month")


def _cmd_run(args) -> int:
    if args.relock and args.scenarios_only:
        raise ValueError("--relock rebuilds the plan, --scenarios-only keeps it: give one of them")
    cycle = parse_cycle(args.cycle)
    sop = _config(home=args.home, data_dir=args.data, horizon=args.horizon, scenarios_file=args.scenarios,
                  allow_stale_actuals=args.allow_stale_actuals or None)
    preflight(sop, cycle)
    return 0 if run_cycle(sop, cycle, verbose=args.verbose, scenarios_only=args.scenarios_only, brief=args.brief,
                          relock=args.relock) else 1


def _cmd_approve(args) -> int:
    from sop_pipeline.plan.lock import Approval, approve_plan
    from sop_pipeline.scenarios import load_scenarios
    from sop_pipeline.warehouse import connect

    cycle = parse_cycle(args.cycle)
    if not args.by.strip():
        raise ValueError("--by: the name of who approved the plan must not be empty")
    sop = _config(home=args.home, data_dir=args.data, scenarios_file=args.scenarios)
    scenarios = load_scenarios(sop.scenarios_path)  # a broken file is a ScenarioError: a usage error
    names = [scenario.name for scenario in scenarios]
    if args.scenario not in names:
        source = sop.scenarios_path or "the packaged scenario file"
        raise ValueError(f"--scenario {args.scenario!r} is not a scenario of {source}: choose one of {', '.join(names)}")
    if not sop.warehouse_path.exists():
        raise ValueError(f"{sop.home_path}: no warehouse yet; run the cycle first (sop run --cycle {cycle:%Y-%m})")
    approval = Approval(args.scenario, args.by.strip(), sop.as_of_date(), args.note)

    def approve() -> None:
        with connect(sop.warehouse_path) as con:
            outcome = approve_plan(con, cycle, approval, scenarios)
        print(f"cycle {cycle:%Y-%m}: plan version {outcome.version} approved by {approval.approved_by} on "
              f"{approval.approved_on} (scenario {approval.scenario}); recomputing supply, cash, scenarios and "
              "the pack from it", flush=True)

    ok = run_cycle(sop, cycle, verbose=args.verbose, scenarios_only=True, brief=args.brief, before=approve,
                   command="approve")
    return 0 if ok else 1


def _cmd_replay(args) -> int:
    """Replay the cycle's last months under every policy (sop_pipeline.replay) and print what each earned."""
    import time

    from sop_pipeline.forecast.folds import FoldCache
    from sop_pipeline.replay.engine import run_replay
    from sop_pipeline.replay.inputs import fold_forecaster, read_replay_inputs
    from sop_pipeline.replay.policies import POLICIES, TRADE_OFF_TARGETS, check_policies
    from sop_pipeline.replay.report import print_replay
    from sop_pipeline.scenarios import CENTRAL, load_scenarios
    from sop_pipeline.warehouse import connect

    cycle = parse_cycle(args.cycle)
    policies = check_policies([name for item in (args.policies or POLICIES) for name in item.split(",") if name])
    sop = _config(home=args.home, data_dir=args.data)
    if not sop.warehouse_path.exists():
        if not args.data:
            raise ValueError(f"{sop.home_path}: no warehouse yet; run the cycle first (sop run --cycle {cycle:%Y-%m}), "
                             "or give --data to run it on a landing folder")
        preflight(sop, cycle)
        if not run_cycle(sop, cycle, brief=True):
            return 1
    central = next(s for s in load_scenarios(sop.scenarios_path) if s.name == CENTRAL)
    started = time.monotonic()
    with connect(sop.warehouse_path, read_only=True) as con:
        inputs = read_replay_inputs(con, cycle, sop.horizon, sop.backtest_origins, sop.service_levels,
                                    sop.abc_a_share, sop.abc_b_share, sop.excess_cover_months, central)
    cache = FoldCache(sop.fold_cache_path, consumer="replay")
    # The folds stay as they are: the cycle's own replay (the plan_replay asset) decides which it keeps.
    result = run_replay(inputs, fold_forecaster(cache), months=args.months, policies=policies,
                        targets=TRADE_OFF_TARGETS, lead_time_months=args.lead_time_months)
    print_replay(result, sop.currency, time.monotonic() - started, cache.hits, cache.hits + cache.misses)
    return 0


def _config(**overrides) -> SopConfig:
    """The configuration, or a usage error that names the setting (not a pydantic traceback)."""
    from pydantic import ValidationError

    try:
        from sop_pipeline.config import SopConfig

        return SopConfig.from_env(**overrides)
    except ValidationError as err:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})" for e in err.errors()]
        raise ValueError("invalid configuration: " + "; ".join(lines)) from None


def _cmd_prepare(args) -> int:
    prepare_manifest()
    print(f"dbt manifest ready in {DBT_PROJECT_DIR / 'target'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sop", description="Monthly Sales & Operations Planning cycle.")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo-data", help="write a deterministic demo data set (the landing contract)",
        description="Writes one CSV file per input data set: a small consumer brand's catalogue, sales, stock, "
        "purchase orders, events, overrides, budget, cash, decisions and approvals. The same arguments give the "
        "same files. Example: sop demo-data --out data/landing --cycle 2026-11")
    demo.add_argument("--out", required=True, help="landing folder to write, e.g. data/landing")
    demo.add_argument("--skus", type=int, default=150, help="SKUs in the catalogue (at least 20; default 150)")
    demo.add_argument("--months", type=int, default=48,
                      help="months of sales history before the cycle (at least 12; default 48)")
    demo.add_argument("--seed", type=int, default=7, help="random seed: another seed, another brand (default 7)")
    demo.add_argument("--cycle", help="YYYY-MM; sales end the month before (default 2026-11)")
    demo.set_defaults(func=_cmd_demo_data)

    run = commands.add_parser(
        "run", help="materialise every asset of one cycle and print a summary",
        description="Runs the monthly cycle: ingest and validation, the dbt fact base, the forecast and its "
        "scorecard, the draft plan, supply, cash, scenarios, the executive pack, and the publication for BI. "
        "Examples: sop run --cycle 2026-11; sop run --cycle 2026-11 --scenarios-only --scenarios my.yaml")
    run.add_argument("--cycle", required=True, help="YYYY-MM, the month being planned")
    run.add_argument("--data", help="landing folder (default $SOP_DATA_DIR or $SOP_HOME/landing)")
    run.add_argument("--home", help="warehouse and outputs (default $SOP_HOME or ./data)")
    run.add_argument("--horizon", type=int, help="months planned ahead, 3-24 (default 12)")
    run.add_argument("--verbose", action="store_true", help="show every Dagster and dbt log line")
    run.add_argument("--brief", action="store_true", help="print one line instead of the summary")
    run.add_argument("--relock", action="store_true",
                     help="on an approved cycle, rebuild the draft from the inputs on disk as a new version beside "
                          "the approved one (approve it with `sop approve`); the approved version is never rewritten")
    run.add_argument("--scenarios-only", action="store_true",
                     help="re-run only the supply review, finance and scenarios from the locked plan, and publish")
    run.add_argument("--scenarios", help="scenario YAML file (default $SOP_SCENARIOS or the packaged one)")
    run.add_argument("--allow-stale-actuals", action="store_true",
                     help="plan even though sales or stock counts stop before the month preceding the cycle "
                          "(a deliberate run on old data; without it such a run fails)")
    run.set_defaults(func=_cmd_run)

    approve = commands.add_parser(
        "approve", help="approve the cycle's draft plan for the executive meeting, with the scenario chosen",
        description="Writes the cycle's newest draft as a new approved version (the plan of record from now on; "
        "earlier versions are kept), then recomputes supply, cash, scenarios and the pack from it. Example: "
        "sop approve --cycle 2026-11 --scenario central --by anna --note 'Expedite SUP-02'")
    approve.add_argument("--cycle", required=True, help="YYYY-MM, the cycle whose plan is approved")
    approve.add_argument("--scenario", required=True, help="the scenario the meeting chose (a name in the scenario file)")
    approve.add_argument("--by", required=True, help="who approved it")
    approve.add_argument("--note", help="what was decided, in a sentence")
    approve.add_argument("--data", help="landing folder (default $SOP_DATA_DIR or $SOP_HOME/landing)")
    approve.add_argument("--home", help="warehouse and outputs (default $SOP_HOME or ./data)")
    approve.add_argument("--scenarios", help="scenario YAML file (default $SOP_SCENARIOS or the packaged one)")
    approve.add_argument("--verbose", action="store_true", help="show every Dagster and dbt log line")
    approve.add_argument("--brief", action="store_true", help="print one line instead of the summary")
    approve.set_defaults(func=_cmd_approve)

    series = commands.add_parser(
        "import-series", help="turn a long file of monthly series (series_id, month, units) into a landing folder")
    series.add_argument("file", help="CSV or Parquet: series_id, month (first day), units (empty = unknown), [family]")
    series.add_argument("--out", required=True, help="landing folder to write (products, sales, missing_months)")
    series.add_argument("--family", default="All", help="family of the series without a family column (default All)")
    series.add_argument("--until", help="YYYY-MM: keep only the months before it, e.g. to hold out the rest")
    series.set_defaults(func=_cmd_import_series)

    decide = commands.add_parser(
        "decide", help="record a decision of the meeting in the landing folder's decision log, or update one",
        description="Adds a decision to decisions/decisions.csv in the landing folder (or changes the fields given "
        "of the decision --id names), after checking the whole log against the input contract. Example: "
        "sop decide --cycle 2026-11 --decision 'Expedite PO-1043 by air' --owner maria --due 2026-11-20 "
        "--sku CAN-0011 --exception stockout; later: sop decide --id D-2026-11-01 --status done")
    decide.add_argument("--id", dest="decision_id", help="the decision to update (default: add a new one)")
    decide.add_argument("--cycle", help="YYYY-MM: the meeting's cycle (a new decision)")
    decide.add_argument("--decision", help="what was decided")
    decide.add_argument("--owner", help="who carries it out")
    decide.add_argument("--due", help="YYYY-MM-DD it is due")
    decide.add_argument("--status", help="open (default), in_progress, done or dropped")
    decide.add_argument("--sku", help="the SKU it concerns")
    decide.add_argument("--family", help="the family it concerns")
    decide.add_argument("--exception", help="the exception type it answers (stockout, capacity_overload, ...)")
    decide.add_argument("--data", help="landing folder (default $SOP_DATA_DIR or $SOP_HOME/landing)")
    decide.set_defaults(func=_cmd_decide)

    validate = commands.add_parser(
        "validate", help="check a landing folder against the input contract only",
        description="Reads every data set of the landing folder and lists each violation once (file, row, column, "
        "rule, value). It runs and writes nothing. Example: sop validate --data data/landing")
    validate.add_argument("--data", help="landing folder (default $SOP_DATA_DIR or $SOP_HOME/landing)")
    validate.set_defaults(func=_cmd_validate)

    replay = commands.add_parser(
        "replay", help="replay the cycle's last months: what each plan would have earned in service, stock and cash",
        description="Plans each of the last K months again with only what was known then, under every policy "
        "(naive, seasonal naive, the production forecast, the consensus, perfect foresight), with the live supply "
        "rules, meets the demand that happened, and prints fill rate, stock and cost per policy and service target, "
        "and the verdict. Reads the home's warehouse after the cycle has run (with --data on a new home, it runs "
        "the cycle first). Example: sop replay --cycle 2026-11 --months 12 --policies naive production")
    replay.add_argument("--cycle", required=True, help="YYYY-MM: the cycle whose last months are replayed")
    replay.add_argument("--months", type=int, default=12, help="months replayed before the cycle (default 12)")
    replay.add_argument("--policies", nargs="+",
                        help="policies to compare (default all): naive seasonal_naive production consensus "
                             "perfect_foresight")
    replay.add_argument("--lead-time-months", type=int,
                        help="lead time of every SKU, in place of the product master's (data imported with "
                             "sop import-series has none: e.g. 2)")
    replay.add_argument("--data", help="landing folder (default $SOP_DATA_DIR or $SOP_HOME/landing)")
    replay.add_argument("--home", help="warehouse and outputs (default $SOP_HOME or ./data)")
    replay.set_defaults(func=_cmd_replay)

    prepare = commands.add_parser("prepare", help="refresh the dbt manifest (dbt parse, no database)")
    prepare.set_defaults(func=_cmd_prepare)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Before LightGBM's OpenMP runtime loads: idle worker threads sleep instead of spinning, which on a
    # small shared machine (2 cores, Dagster and DuckDB threads beside them) costs far more than it saves.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:  # bad flags or a failed preflight: a malformed cycle, a missing folder, ...
        print(f"sop: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # anything else: one line naming the cause; the traceback only with --verbose
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"sop: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
