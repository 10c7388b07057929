"""`sop-dbt`: the dbt a run starts, made to die with the run and to hold the home while it lives.

Dagster starts dbt as a child process. Killed with `kill -9`, a run cannot stop its child, which would go on
writing the warehouse for half a minute after the home's run lock was released. So the run starts this
wrapper instead of dbt. It asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), takes a shared
lock on `$SOP_HOME/.children.lock` that it keeps open, and then becomes dbt (exec: same process, same lock). A
new run waits for an exclusive lock on that file before it starts (`cli.run_lock`), that is, until every child
of earlier runs has exited.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
from pathlib import Path

from sop_pipeline.dbt_paths import dbt_executable

CHILDREN_LOCK = ".children.lock"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have the kernel send SIGKILL to this process when its parent exits (Linux only; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def hold_home(home: Path) -> None:
    """Keep a shared lock on the home's children lock for the life of this process and of what it execs."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / CHILDREN_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH)
    os.set_inheritable(fd, True)  # survives the exec below; released when dbt exits, however it exits


def main() -> None:
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent or parent == 1:  # the run died before the kernel could be told: do nothing
        sys.exit(1)
    if os.environ.get("SOP_HOME"):
        hold_home(Path(os.environ["SOP_HOME"]))
    dbt = dbt_executable()
    os.execv(dbt, [dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()
