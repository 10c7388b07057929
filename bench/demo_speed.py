"""`make bench-speed`, second part: what the two-cycle demo costs against the one-cycle demo it replaced.

`make demo` runs the cycle before the demo cycle first, so that the pack has an earlier plan to bridge from
and to score. Measured in one run, on the same demo files, through the `sop` command as `make demo` calls it:

- before: the demo cycle alone on a fresh home (the demo up to release 0.2);
- after: the previous cycle on a fresh home, then the demo cycle on the same home.

The target: the second cycle of the demo takes less time than the first (it reuses the home, and its
extra work, the bridge and the pack, costs less than what a fresh home costs).

Usage: python -m bench.demo_speed [--results FILE]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.accuracy import machine

DEMO_CYCLE, PREVIOUS_CYCLE = "2026-11", "2026-10"


def timed_run(sop: Path, home: Path, landing: Path, cycle: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(sop), "run", "--cycle", cycle, "--home", str(home), "--data", str(landing), "--brief"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", help="append the result to this Markdown file")
    args = parser.parse_args(argv)
    sop = Path(sys.executable).with_name("sop")
    root = Path(tempfile.mkdtemp(prefix="sop-demo-speed-"))
    try:
        landing = root / "landing"
        subprocess.run([str(sop), "demo-data", "--out", str(landing), "--cycle", DEMO_CYCLE], check=True,
                       stdout=subprocess.DEVNULL)
        before = timed_run(sop, root / "before", landing, DEMO_CYCLE)
        first = timed_run(sop, root / "after", landing, PREVIOUS_CYCLE)
        second = timed_run(sop, root / "after", landing, DEMO_CYCLE)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report = (
        f"\n## Demo: one cycle vs two ({time.strftime('%Y-%m-%d')}, {machine()})\n\n"
        "| run | seconds |\n|---|---|\n"
        f"| before: {DEMO_CYCLE} alone, fresh home | {before:.1f} |\n"
        f"| after: {PREVIOUS_CYCLE}, fresh home | {first:.1f} |\n"
        f"| after: {DEMO_CYCLE}, same home | {second:.1f} |\n"
        f"| after, both cycles | {first + second:.1f} |\n\n"
        f"Second cycle / first cycle: {second / first:.2f} (target < 1). "
        f"Two-cycle demo / one-cycle demo: {(first + second) / before:.2f}.\n"
    )
    print(report)
    if args.results:
        with open(args.results, "a") as handle:
            handle.write(report)
    return 0 if second < first else 1


if __name__ == "__main__":
    sys.exit(main())
