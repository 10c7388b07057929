"""Backtest folds kept in the home between cycles, so a cycle refits only the origin that is new.

A fold (every method's forecast from one origin) is stored under a digest of everything it is computed from:
the origin, the horizon, whether the global model is in it, the history before the origin, the product
attributes and event uplift, the forecast code and the fitting libraries' versions. So a stored fold is the
fold the code would compute now. Design notes: docs/forecast.md, *The backtest and its folds*.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

# The libraries whose numbers a fold holds: a new version may fit differently.
_LIBRARIES = ("polars", "numpy", "lightgbm", "statsforecast")
_SUFFIX = ".parquet"
_USED_PREFIX = "used-"  # used-<consumer>.txt: the folds a consumer's latest run read or wrote


@functools.cache
def code_fingerprint() -> str:
    """A digest of the forecast package's source and the fitting libraries' versions."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted([*package.glob("*.py"), package.parent / "cycle.py"]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for name in _LIBRARIES:
        digest.update(f"{name}=={importlib.metadata.version(name)}".encode())
    return digest.hexdigest()


def _frame_digest(digest, frame: pl.DataFrame | None) -> None:
    if frame is None:
        digest.update(b"none")
        return
    digest.update(repr(frame.schema).encode())
    digest.update(str(frame.height).encode())
    if frame.height:
        for seed in (0, 1):  # two 64-bit hashes per row: a collision would need both to collide
            digest.update(frame.hash_rows(seed=seed).to_numpy().tobytes())


def fold_key(origin: date, horizon: int, include_lightgbm: bool, *frames: pl.DataFrame | None) -> str:
    """The digest a fold is stored under (see the module's docstring for what goes in)."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(f"{origin.isoformat()}|{horizon}|{include_lightgbm}".encode())
    for frame in frames:
        _frame_digest(digest, frame)
    return digest.hexdigest()


class FoldCache:
    """Folds by digest in one folder, shared by the forecast stage and the plan replay (each a `consumer`).
    `hits` and `misses` count this object's lookups."""

    def __init__(self, directory: Path, consumer: str = "forecast"):
        self.directory = Path(directory)
        self.consumer = consumer
        self.hits = 0
        self.misses = 0
        self._used: set[str] = set()
        if self.directory.is_dir():
            for leftover in self.directory.glob("*.tmp"):  # a run killed between write and rename
                leftover.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}{_SUFFIX}"

    def get(self, key: str) -> pl.DataFrame | None:
        path = self._path(key)
        self._used.add(key)
        try:
            frame = pl.read_parquet(path)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # unreadable (a disk error, a foreign file): compute the fold again
            path.unlink(missing_ok=True)
            self.misses += 1
            return None
        self.hits += 1
        return frame

    def put(self, key: str, frame: pl.DataFrame) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._used.add(key)
        self._write_atomically(self._path(key), lambda temporary: frame.write_parquet(temporary, statistics=False))

    def keep_only_used(self) -> int:
        """Record the folds this object read or wrote as its consumer's latest set, then remove every fold
        that no consumer's latest set holds; returns how many were removed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_atomically(self.directory / f"{_USED_PREFIX}{self.consumer}.txt",
                               lambda temporary: Path(temporary).write_text(
                                   "".join(f"{key}\n" for key in sorted(self._used)), encoding="utf-8"))
        kept = set(self._used)
        for listing in self.directory.glob(f"{_USED_PREFIX}*.txt"):
            kept.update(listing.read_text(encoding="utf-8").split())
        stale = [path for path in self.directory.glob(f"*{_SUFFIX}") if path.stem not in kept]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def _write_atomically(self, path: Path, write: Callable[[str], None]) -> None:
        """`write(temporary)` then rename over `path`: a reader never sees half a file."""
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        os.close(handle)
        try:
            write(temporary)
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
