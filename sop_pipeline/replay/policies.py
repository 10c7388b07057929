"""The plans the replay compares, under identical supply rules (naive, seasonal naive, production, consensus,
perfect foresight), and each one's forecast and error evidence at a past month (docs/replay.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.replay.forecasts import FORECAST_SCHEMA, Folds, consensus_at, method_at, production_at, stop_selling

NAIVE, SEASONAL_NAIVE, PRODUCTION = "naive", "seasonal_naive", "production"
CONSENSUS, PERFECT_FORESIGHT = "consensus", "perfect_foresight"
POLICIES = (NAIVE, SEASONAL_NAIVE, PRODUCTION, CONSENSUS, PERFECT_FORESIGHT)
POLICY_LABELS = {
    NAIVE: "naive", SEASONAL_NAIVE: "seasonal naive", PRODUCTION: "production forecast",
    CONSENSUS: "consensus", PERFECT_FORESIGHT: "perfect foresight",
}
TRADE_OFF_TARGETS = (0.85, 0.90, 0.95, 0.99)


class ReplayError(ValueError):
    """A replay that cannot run as asked; the message says why and what to do."""


def check_policies(names: Iterable[str]) -> tuple[str, ...]:
    """The policies asked for, in the canonical order; an unknown name is an error listing the known ones."""
    names = list(names)
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ReplayError(f"unknown policy {unknown[0]!r}: choose from {', '.join(POLICIES)}")
    if not names:
        raise ReplayError(f"no policy to replay: choose from {', '.join(POLICIES)}")
    return tuple(p for p in POLICIES if p in names)


def check_targets(targets: Iterable[float]) -> tuple[float, ...]:
    """The trade-off curve's service targets, sorted; each must lie strictly between 0 and 1."""
    values = sorted(set(float(t) for t in targets))
    bad = [t for t in values if not 0 < t < 1]
    if bad:
        raise ReplayError(f"service target {bad[0]:g} must lie strictly between 0 and 1 (e.g. 0.95)")
    return tuple(values)


def perfect_foresight_at(world: pl.DataFrame, month: date, horizon: int, evidence: pl.DataFrame
                         ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the demand of the horizon from `month` as the forecast, evidence rows whose forecast is the actual)."""
    end = add_months(month, horizon)
    forecast = world.filter((pl.col("month") >= month) & (pl.col("month") < end)).select(
        "sku", "month", pl.lit(PERFECT_FORESIGHT).alias("method"), pl.col("demand").alias("forecast")
    ).cast(FORECAST_SCHEMA)
    errors = evidence.filter(pl.col("method") == NAIVE).with_columns(pl.col("actual").alias("forecast"))
    return forecast, errors


def policy_plans(folds: Folds, month: date, policies: Sequence[str], overrides: pl.DataFrame,
                 world: pl.DataFrame) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Per policy: (its forecast from `month`, `sku, month, forecast`, for the SKUs still selling, zero from
    the month they stop; the evidence rows its safety stock is computed from)."""
    plans: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    if PRODUCTION in policies or CONSENSUS in policies:
        production, errors = production_at(folds, month)
        if PRODUCTION in policies:
            plans[PRODUCTION] = (production, errors)
        if CONSENSUS in policies:
            plans[CONSENSUS] = (consensus_at(folds, month, production, overrides), errors)
    for method in (NAIVE, SEASONAL_NAIVE):
        if method in policies:
            plans[method] = method_at(folds, month, method)
    if PERFECT_FORESIGHT in policies:
        plans[PERFECT_FORESIGHT] = perfect_foresight_at(world, month, folds.horizon, folds.evidence(month))
    return {
        policy: (stop_selling(forecast, folds.products, month).select("sku", "month", "forecast").sort("sku", "month"),
                 evidence)
        for policy, (forecast, evidence) in ((p, plans[p]) for p in policies)
    }
