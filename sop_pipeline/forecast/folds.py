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
from datetime import date
from pathlib import Path

import polars as pl

# The libraries whose numbers a fold holds: a new version may fit differently.
_LIBRARIES = ("polars", "numpy", "lightgbm", "statsforecast")
_SUFFIX = ".parquet"


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
    """Folds by digest in one folder. `hits` and `misses` count this object's lookups."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
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
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        os.close(handle)
        try:
            frame.write_parquet(temporary, statistics=False)
            os.replace(temporary, self._path(key))
        finally:
            Path(temporary).unlink(missing_ok=True)

    def keep_only_used(self) -> int:
        """Remove the folds this object neither read nor wrote; returns how many."""
        if not self.directory.is_dir():
            return 0
        stale = [path for path in self.directory.glob(f"*{_SUFFIX}") if path.stem not in self._used]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)
