"""Runs whose process died are failed, so the one-run-at-a-time queue never waits behind them."""

import subprocess
import sys

import dagster as dg

from sop_pipeline.runs import PID_TAG, START_TAG, fail_dead_runs, is_alive, process_start, process_tags


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_process_is_alive_only_while_it_runs_and_only_as_itself():
    mine = process_tags()
    assert is_alive(mine)
    assert not is_alive(process_tags(_dead_pid()) | {START_TAG: "1"})
    assert not is_alive({PID_TAG: mine[PID_TAG], START_TAG: str(int(mine[START_TAG]) + 1)})  # a recycled pid
    assert is_alive({})  # a run that never recorded its process is not ours to judge
    assert process_start(_dead_pid()) is None


@dg.op
def _noop():
    return None


@dg.job
def _job():
    _noop()


def test_started_runs_of_dead_processes_are_failed_and_live_ones_kept(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        dead = instance.create_run_for_job(_job, tags={PID_TAG: str(_dead_pid()), START_TAG: "1"},
                                           status=dg.DagsterRunStatus.STARTED)
        alive = instance.create_run_for_job(_job, tags=process_tags(), status=dg.DagsterRunStatus.STARTED)
        unknown = instance.create_run_for_job(_job, status=dg.DagsterRunStatus.STARTED)
        assert fail_dead_runs(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(unknown.run_id).status == dg.DagsterRunStatus.STARTED
        assert fail_dead_runs(instance) == []
