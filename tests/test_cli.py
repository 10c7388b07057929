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
    assert main(["validate", "--data", str(write_landing(tmp_path / "l", data))]) == 1
    assert "sales/sales.csv, row 3, column 'quantity': must be >= 0 (value: '-2')" in capsys.readouterr().err


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
