"""`sop replay`: its usage errors say what to do, before any heavy work."""

import pytest

from sop_pipeline.cli import main


def test_an_unknown_policy_exits_2_naming_the_known_ones(tmp_path, capsys):
    assert main(["replay", "--cycle", "2026-11", "--policies", "naive", "magic", "--home", str(tmp_path)]) == 2
    assert "unknown policy 'magic': choose from naive, seasonal_naive, production, consensus, perfect_foresight" in (
        capsys.readouterr().err)


def test_a_home_without_a_warehouse_exits_2_saying_to_run_the_cycle_first(tmp_path, capsys):
    assert main(["replay", "--cycle", "2026-11", "--home", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "no warehouse yet; run the cycle first (sop run --cycle 2026-11)" in err and "--data" in err


@pytest.mark.parametrize("argv,message", [
    (["replay", "--cycle", "2026/11"], "cycle must look like YYYY-MM"),
    (["replay", "--cycle", "2026-11", "--policies", ","], "no policy to replay"),
])
def test_malformed_flags_exit_2_with_the_reason(argv, message, tmp_path, capsys):
    assert main([*argv, "--home", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
