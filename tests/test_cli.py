"""The `sop` command: exit codes and messages a planner can act on."""

import copy

import pytest

from sop_pipeline.cli import build_parser, main

from conftest import TINY_LANDING, write_landing


def test_validate_accepts_a_good_landing_folder(tiny_landing, capsys, monkeypatch):
    monkeypatch.setenv("SOP_AS_OF", "2026-11-21")
    assert main(["validate", "--data", str(tiny_landing)]) == 0
    assert "every data set meets the contract" in capsys.readouterr().out


def test_validate_lists_violations_and_exits_non_zero(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOP_AS_OF", "2026-11-21")
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["quantity"][1] = "-2"
    data["sales"]["quantity"][2] = "-3"
    assert main(["validate", "--data", str(write_landing(tmp_path / "l", data))]) == 1
    err = capsys.readouterr().err
    # Each violation exactly once, and no claim about a run: validate never runs anything.
    for line in ("sales/sales.csv, row 3, column 'quantity': must be >= 0 (value: '-2')",
                 "sales/sales.csv, row 4, column 'quantity': must be >= 0 (value: '-3')"):
        assert err.count(line) == 1
    assert err.splitlines()[0].startswith("2 input violation(s):")
    assert "published" not in err and "downstream" not in err


@pytest.mark.parametrize("argv,message", [
    (["run", "--cycle", "2026/11"], "cycle must look like YYYY-MM"),
    (["run", "--cycle", "2026-11", "--horizon", "40"], "horizon"),
    (["run", "--cycle", "2099-01"], "cycle 2099-01-01 is not open"),
])
def test_bad_flags_exit_2_with_the_reason(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SOP_HOME", str(tmp_path))
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_run_requires_a_cycle():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run"])


def test_a_fresh_dagster_home_queues_one_run_at_a_time(tmp_path, monkeypatch, restore_environ):
    import dagster as dg

    from sop_pipeline.cli import prepare_dagster_home
    from sop_pipeline.config import SopConfig

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = prepare_dagster_home(SopConfig.from_env(env={}, home=str(tmp_path)))
    assert home == tmp_path / "dagster"
    with dg.DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1


def _run_args(tmp_path, landing, *extra):
    return ["run", "--cycle", "2026-11", "--home", str(tmp_path / "home"), "--data", str(landing), *extra]


@pytest.mark.parametrize("change,message", [
    (lambda folder: folder / "nowhere", "the landing folder does not exist"),
    (lambda folder: (folder / "products" / "products.csv").unlink() or folder,
     "products/: required data set is missing"),
    (lambda folder: (folder / "sales" / "sales.csv").write_text("") or folder, "sales.csv: the file is empty"),
])
def test_preflight_refuses_a_landing_folder_before_anything_is_created(tmp_path, capsys, monkeypatch, change, message):
    monkeypatch.setenv("SOP_AS_OF", "2026-11-21")
    landing = change(write_landing(tmp_path / "landing", TINY_LANDING))
    assert main(_run_args(tmp_path, landing)) == 2
    err = capsys.readouterr().err
    assert "the run cannot start" in err and message in err and "Traceback" not in err, err
    assert not (tmp_path / "home").exists()


def test_preflight_reads_the_scenario_file_before_the_run(tmp_path, capsys, monkeypatch):
    """A bad scenario key used to surface minutes into the run, after the plan was locked."""
    monkeypatch.setenv("SOP_AS_OF", "2026-11-21")
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text("scenarios:\n  central:\n    demand: {quantile: 0.5}\n    supplier_delay_monts: 1\n")
    landing = write_landing(tmp_path / "landing", TINY_LANDING)
    assert main(_run_args(tmp_path, landing, "--scenarios", str(scenarios))) == 2
    err = capsys.readouterr().err
    assert "scenario file" in err and "supplier_delay_monts" in err, err
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("variable,value,message", [
    ("SOP_FROZEN_MONTHS", "7", "SOP_FROZEN_MONTHS (7) must not exceed SOP_FLEXIBLE_MONTHS (6)"),
    ("SOP_ABC_A_SHARE", "0.97", "SOP_ABC_A_SHARE (0.97) must not exceed SOP_ABC_B_SHARE (0.95)"),
    ("SOP_SERVICE_LEVEL_A", "1.5", "service_level_a"),
])
def test_preflight_names_a_contradictory_or_invalid_setting(tmp_path, capsys, monkeypatch, variable, value, message):
    monkeypatch.setenv("SOP_AS_OF", "2026-11-21")
    monkeypatch.setenv(variable, value)
    landing = write_landing(tmp_path / "landing", TINY_LANDING)
    assert main(_run_args(tmp_path, landing)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("args, message", [
    (["--scenario", "optimistic", "--by", "anna"], "'optimistic' is not a scenario of the packaged scenario file"),
    (["--scenario", "central", "--by", "  "], "--by: the name of who approved the plan must not be empty"),
    (["--scenario", "central", "--by", "anna"], "no warehouse yet; run the cycle first"),
])
def test_approve_refuses_a_bad_approval_as_a_usage_error_and_creates_nothing(tmp_path, capsys, args, message):
    home = tmp_path / "home"
    assert main(["approve", "--cycle", "2026-11", "--home", str(home), "--data", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not home.exists()


def test_help_and_usage_errors_load_no_heavy_library():
    """`sop --help` and a usage error answer without importing Dagster, dbt, polars or the models (the speed
    itself is measured by `make bench-speed`, against a bare Python)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from sop_pipeline.cli import main\n"
        "for argv in (['--help'], ['run', '--help'], ['run', '--cycle', '2026/11']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'dagster', 'dbt', 'polars', 'lightgbm', "
        "'statsforecast', 'duckdb', 'pydantic'})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY="
