"""The processes behind Dagster runs: a run whose process died is failed, so the one-run queue never stalls.

Every run of the cycle's job records the process that executes it (`sop/pid`, and the process's start time
so that a recycled pid is not taken for it). A run killed with `kill -9` cannot report its own end: it
stays STARTED in the instance, and with one run at a time every later run would queue behind it for ever.
`fail_dead_runs` marks such runs failed; `sop run` calls it once it holds the home, and a sensor does the
same for the UI's queue.
"""

from __future__ import annotations

import os
from pathlib import Path

PID_TAG, START_TAG = "sop/pid", "sop/process_start"


def process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot, from /proc), or None when it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the command name may hold spaces and parentheses


def process_tags(pid: int | None = None) -> dict[str, str]:
    """The tags that tie a run to the process executing it."""
    pid = os.getpid() if pid is None else pid
    return {PID_TAG: str(pid), START_TAG: process_start(pid) or ""}


def is_alive(tags: dict[str, str]) -> bool:
    """Whether the process a run's tags name still runs (the same process, not a recycled pid)."""
    pid = tags.get(PID_TAG)
    if not pid or not pid.isdigit():
        return True  # not ours to judge: a run that never recorded its process
    started = process_start(int(pid))
    return started is not None and started == tags.get(START_TAG, started)


def fail_dead_runs(instance) -> list[str]:
    """Mark failed every started run whose process is gone; returns their run ids."""
    import dagster as dg

    failed = []
    filters = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
    for run in instance.get_runs(filters=filters):
        if not is_alive(run.tags):
            instance.report_run_failed(run, message=f"the process that ran it (pid {run.tags[PID_TAG]}) died: "
                                                    "marked failed so that the queue moves on")
            failed.append(run.run_id)
    return failed
