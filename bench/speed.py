"""`make bench-speed`: the forecast stage on a synthetic catalogue of 10,000 SKUs × 48 months.

The catalogue mixes the four demand patterns (60 % smooth seasonal, 10 % erratic, 20 % intermittent,
10 % lumpy) at levels spread over three orders of magnitude, drawn with a fixed seed. The forecast stage
(12-origin backtest of every step, FVA with intervals, champions, forward forecast) is timed next to
statsforecast's AutoETS alone fitted once on the same series, in the same run on the same machine, so
the ratio holds on a noisy shared machine where the seconds do not.

`--replay` then replays the last 12 months of the same catalogue (sop_pipeline.replay, every policy and
service target) against the same forecast stage: cold (every fold fitted, as on a fresh home) and warm (every
fold read from the cache, as a monthly cycle finds all but its newest), so the simulation's own cost shows.

Usage: python -m bench.speed [--skus N] [--months M] [--replay] [--results FILE]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from bench.accuracy import autoets, machine
from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.cycle_forecast import build_cycle_forecast

CYCLE = date(2026, 11, 1)


def catalogue(n_skus: int, n_months: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    level = np.exp(rng.uniform(np.log(2), np.log(2000), n_skus))
    season = 1 + rng.uniform(0, 0.4, n_skus)[:, None] * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 12, n_skus)[:, None]) / 12)
    trend = 1 + rng.normal(0, 0.01, n_skus)[:, None] * t[None, :]
    mean = np.clip(level[:, None] * season * trend, 0, None)
    kind = rng.choice(4, n_skus, p=[0.6, 0.1, 0.2, 0.1])
    units = rng.poisson(mean).astype(float)
    erratic = kind == 1
    units[erratic] = rng.gamma(0.8, mean[erratic] / 0.8)
    sparse = kind >= 2
    occurs = rng.random((n_skus, n_months)) < 0.3
    size = np.where(kind[:, None] == 3, rng.gamma(0.5, 2 * np.maximum(mean, 1)), rng.poisson(np.maximum(mean, 1)))
    units[sparse] = np.where(occurs[sparse], size[sparse], 0.0)
    skus = [f"S{i:05d}" for i in range(n_skus)]
    months = [add_months(CYCLE, -n_months + i) for i in range(n_months)]
    history = pl.DataFrame({
        "sku": np.repeat(skus, n_months), "channel": "all", "month": months * n_skus,
        "units": np.round(units.reshape(-1)), "is_stockout": False,
    })
    products = pl.DataFrame({"sku": skus, "family": [f"F{i % 8}" for i in range(n_skus)], "unit_price": 1.0})
    products = products.with_columns(pl.lit(None, pl.Date).alias("launch_date"), pl.lit(None, pl.Date).alias("discontinue_date"))
    return history, products


def replay_inputs(history: pl.DataFrame, products: pl.DataFrame):
    """The catalogue as a landing folder without supply data would give it to the replay: neutral products
    (price and cost 1, a two-month lead time, no MOQ), no events, overrides or supplier capacity."""
    from sop_pipeline.forecast.events import EVENTS_SCHEMA
    from sop_pipeline.replay.engine import ReplayInputs

    products = products.with_columns(
        pl.lit("none").alias("supplier"), pl.lit("active").alias("status"), pl.lit(1.0).alias("unit_cost"),
        pl.lit(2, pl.Int32).alias("lead_time_months"), pl.lit(1).alias("moq"), pl.lit(1).alias("order_multiple"))
    overrides = pl.DataFrame(schema={"cycle": pl.Date, "sku": pl.String, "family": pl.String, "month": pl.Date,
                                     "quantity": pl.Float64, "percent": pl.Float64, "reason": pl.String,
                                     "owner": pl.String})
    return ReplayInputs(cycle=CYCLE, history=history.with_columns(pl.col("units").alias("net_revenue")),
                        products=products, events=pl.DataFrame(schema=EVENTS_SCHEMA), overrides=overrides,
                        suppliers=pl.DataFrame(schema={"supplier": pl.String, "monthly_capacity": pl.Float64}))


def time_replay(history: pl.DataFrame, products: pl.DataFrame) -> tuple[float, float, int]:
    """(seconds cold, seconds warm, folds) of replaying the catalogue's last 12 months."""
    from sop_pipeline.forecast.folds import FoldCache
    from sop_pipeline.replay.engine import run_replay
    from sop_pipeline.replay.inputs import fold_forecaster

    inputs = replay_inputs(history, products)
    folder = Path(tempfile.mkdtemp(prefix="sop-bench-replay-"))
    try:
        seconds = []
        for _ in ("cold", "warm"):
            cache = FoldCache(folder, consumer="replay")
            began = time.perf_counter()
            run_replay(inputs, fold_forecaster(cache), months=12)
            seconds.append(time.perf_counter() - began)
        return seconds[0], seconds[1], cache.hits
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--replay", action="store_true", help="also time the plan replay against the stage")
    parser.add_argument("--results", help="append the result to this Markdown file")
    args = parser.parse_args(argv)
    history, products = catalogue(args.skus, args.months)
    began = time.perf_counter()
    result = build_cycle_forecast(history, products, CYCLE, 12)
    stage = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _, ets = autoets(history, CYCLE, 12)
    text = (f"### Speed: {args.skus} SKUs × {args.months} months, h = 12 ({machine()})\n\n"
            f"| what | seconds | × AutoETS |\n|---|---|---|\n"
            f"| forecast stage: 12-origin backtest of {result.backtest['method'].n_unique()} methods and steps, "
            f"FVA with intervals, champions, forward forecast | {stage:.0f} | {stage / ets:.2f} |\n"
            f"| statsforecast AutoETS alone, one fit and forecast | {ets:.0f} | 1.00 |\n\n"
            f"Peak memory of the stage: {peak:.0f} MB. Rows forecast: {result.forecast.height}.\n")
    if args.replay:
        cold, warm, folds = time_replay(history, products)
        text += (f"\nPlan replay of the last 12 months, every policy and service target ({folds} folds):\n\n"
                 f"| what | seconds | × forecast stage |\n|---|---|---|\n"
                 f"| replay, cold (every fold fitted) | {cold:.0f} | {cold / stage:.2f} |\n"
                 f"| replay, warm (every fold cached: the simulation alone) | {warm:.0f} | {warm / stage:.2f} |\n")
    print(text, flush=True)
    if args.results:
        with open(args.results, "a") as out:
            out.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
