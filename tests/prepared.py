"""Prepared folders shared by a whole test session, across pytest-xdist workers.

A cycle takes a minute or more; copying a home takes a second. A prepared folder (a landing folder, a home that ran
some cycles) is built once per session by whichever worker asks for it first, under a file lock: the other workers
wait for it and reuse it. It is never written afterwards: a test that changes a home or a landing folder works on
its own copy (`shutil.copytree`), and a module that changes its home step by step takes one copy for the module.

Without xdist the session's own temporary folder holds them, and each is built once all the same.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest


def session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session that every worker sees: under xdist, the parent of the workers' own
    temporary folders (`pytest-N/popen-gwK`); without it, the session's temporary folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def exclusive(lock: Path):
    """Hold an exclusive lock on `lock` (created if missing) while the block runs."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], object]) -> tuple[Path, object]:
    """`build(folder)` run once in this session for `name`, in a new empty folder; returns that folder and what
    `build` returned (pickled, so the other workers get it too). The build starts without SOP_* settings or
    DAGSTER_HOME, and the environment is put back after it (a run sets them). A build that failed is not tried again
    by the next worker that asks: it fails at once, pointing at the first error."""
    root = session_root(tmp_path_factory)
    folder, result, failed = root / name, root / f"{name}.result", root / f"{name}.failed"
    with exclusive(root / f"{name}.lock"):
        if failed.exists():
            pytest.fail(f"preparing {name!r} failed earlier in this session: {failed.read_text()}", pytrace=False)
        if not result.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            saved = dict(os.environ)
            # Built from what `build` passes, not from the settings (or the Dagster instance) of the module that
            # happened to ask first.
            for variable in [v for v in os.environ if v.startswith("SOP_") or v == "DAGSTER_HOME"]:
                del os.environ[variable]
            try:
                value = build(folder)
            except Exception as error:
                failed.write_text(f"{type(error).__name__}: {error}"[:3000])
                raise
            finally:
                os.environ.clear()
                os.environ.update(saved)
            result.write_bytes(pickle.dumps(value))
        return folder, pickle.loads(result.read_bytes())


def copy_tree(source: Path, target: Path) -> Path:
    """A private copy of a prepared folder (a home or a landing folder), to change freely."""
    shutil.copytree(source, target, symlinks=True)
    return target
