"""Test-only fault points: a named place in a run where a fault test can kill the process or inject an error.

A fault test sets `SOP_FAULT_POINT` to a point's name and `SOP_FAULT_ACTION` to what happens there:
`kill` (the process dies at once with SIGKILL, as under `kill -9` or the OOM killer) or `enospc`
(an `OSError` "No space left on device", as when the disk fills). Unset, a fault point does nothing, so
production runs pass through them at the cost of one dictionary lookup. Tests use these points instead
of sleeping and guessing where the run is.
"""

from __future__ import annotations

import errno
import os
import signal

FAULT_POINT_ENV, FAULT_ACTION_ENV = "SOP_FAULT_POINT", "SOP_FAULT_ACTION"

# Every fault point of a run, in the order a full run passes them.
FAULT_POINTS = (
    "dbt_running",        # in the run, while its dbt child is building models
    "forecast",           # inside the forecast stage, after the first of its four tables was written
    "after_lock",         # right after the cycle's plan was locked
    "publish_exports",    # inside publish: the new exports are staged, nothing is swapped yet
    "publish_swap",       # inside publish: between the renames that switch the copy and the exports
)


def fault_point(name: str) -> None:
    """Fail here if a fault test asked for it (see the module docstring)."""
    if os.environ.get(FAULT_POINT_ENV) != name:
        return
    if name not in FAULT_POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    action = os.environ.get(FAULT_ACTION_ENV, "kill")
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    raise ValueError(f"unknown fault action {action!r}: expected kill or enospc")
