"""Compare what two homes published, byte for byte: every Parquet export and the pack of every cycle.

A refactor that must not change behaviour is checked by running the same demo cycles on a home built
before it and on one built after it (`git worktree` for the older commit), then:

    python -m tools.compare_published HOME_BEFORE HOME_AFTER

Exits 1 and lists the files that differ or exist on one side only.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def digests(home: Path) -> dict[str, str]:
    files = [*sorted((home / "exports").rglob("*")), *sorted((home / "pack").rglob("*"))]
    return {str(f.relative_to(home)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0] + "\nusage: python -m tools.compare_published HOME_BEFORE HOME_AFTER")
        return 2
    before, after = (digests(Path(arg)) for arg in argv)
    differ = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    for name in differ:
        print(f"differs: {name}" if name in before and name in after else f"only in one home: {name}")
    print(f"{len(before.keys() & after.keys()) - len([n for n in differ if n in before and n in after])} files "
          f"identical, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
