"""`make bench-speed`, CLI part: how fast `sop` answers `--help` and a usage error, against a bare Python.

The command imports Dagster, dbt, LightGBM and statsforecast only inside the commands that need them, so
help and usage errors should cost little more than starting Python. Each command runs `--repeats` times in
one run on one machine; the medians and their ratio to `python -c pass` are reported (the machines are
shared and noisy: compare the ratios, not the seconds).

Usage: python -m bench.cli_speed [--repeats N] [--results FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.accuracy import machine


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--results", help="append the result to this Markdown file")
    args = parser.parse_args(argv)
    sop = str(Path(sys.executable).with_name("sop"))
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "sop --help": [sop, "--help"],
        "sop run --help": [sop, "run", "--help"],
        "sop run --cycle 2026/11 (usage error)": [sop, "run", "--cycle", "2026/11"],
    }
    seconds = {name: median_seconds(command, args.repeats) for name, command in commands.items()}
    bare = seconds["python -c pass"]
    report = (f"\n## CLI start-up ({time.strftime('%Y-%m-%d')}, {machine()}, median of {args.repeats})\n\n"
              "| command | seconds | × bare Python |\n|---|---|---|\n"
              + "".join(f"| `{name}` | {value:.3f} | {value / bare:.1f} |\n" for name, value in seconds.items()))
    print(report)
    if args.results:
        with open(args.results, "a") as handle:
            handle.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
