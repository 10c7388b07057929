"""The plan replay of one cycle (SPEC §14): its last K months, every policy at the configured service levels and
at each target of the trade-off curve, scored, with the verdict and notes. `run_replay` is pure; how a month is
replayed and what the notes say: docs/replay.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.backtest import DEFAULT_ORIGINS, backtest_origins
from sop_pipeline.replay.demand import abc_classes, actual_demand, unknown_months
from sop_pipeline.replay.forecasts import Folds, Forecaster
from sop_pipeline.replay.policies import (
    CONSENSUS,
    PERFECT_FORESIGHT,
    POLICIES,
    TRADE_OFF_TARGETS,
    ReplayError,
    check_policies,
    check_targets,
    policy_plans,
)
from sop_pipeline.replay.score import HOLDING_COST_RATE, summarise, verdict
from sop_pipeline.replay.simulate import PRODUCT_COLUMNS, Ledger, PolicyMonth
from sop_pipeline.scenarios import CENTRAL, Scenario
from sop_pipeline.supply.safety_stock import DEFAULT_SERVICE_LEVELS, safety_stock_by_sku
from sop_pipeline.supply.status import DEFAULT_EXCESS_COVER_MONTHS

DEFAULT_MONTHS = 12
NOTE_SKUS = 5  # a note names at most this many SKUs

REPLAY_SCHEMA = {
    "policy": pl.String, "service_target": pl.Float64, "sku": pl.String, "month": pl.Date,
    "opening": pl.Float64, "receipts": pl.Float64, "demand": pl.Float64, "fulfilled": pl.Float64,
    "lost": pl.Float64, "closing": pl.Float64, "value": pl.Float64, "ordered": pl.Float64,
    "safety_stock": pl.Float64, "service_level": pl.Float64, "is_estimated": pl.Boolean,
}


@dataclass(frozen=True)
class ReplayInputs:
    """What a replay reads, as of the cycle. Frames:

    - `history`: the fact base, `marts.fct_demand_monthly` (`sku, channel, month, units, net_revenue,
      is_stockout`, optionally `is_missing`); months on or after the cycle are ignored.
    - `products`: `marts.dim_products` (`sku, family, supplier, status, unit_cost, unit_price,
      lead_time_months, moq, order_multiple, launch_date, discontinue_date`).
    - `events` and `overrides` as landed (may be empty); `suppliers`: `supplier, monthly_capacity` (may be
      empty: no capacity limit).
    """

    cycle: date
    history: pl.DataFrame
    products: pl.DataFrame
    events: pl.DataFrame
    overrides: pl.DataFrame
    suppliers: pl.DataFrame
    horizon: int = 12
    backtest_origins: int = DEFAULT_ORIGINS
    service_levels: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_SERVICE_LEVELS)))
    abc_a_share: float = 0.80
    abc_b_share: float = 0.95
    excess_cover_months: float = DEFAULT_EXCESS_COVER_MONTHS
    scenario: Scenario = field(default_factory=lambda: Scenario(CENTRAL))


@dataclass(frozen=True)
class Replay:
    replay: pl.DataFrame  # REPLAY_SCHEMA: one row per policy, service target, SKU and month
    summary: pl.DataFrame  # replay.score.SUMMARY_SCHEMA: one row per policy and service target
    verdict: str
    notes: tuple[str, ...]
    months: tuple[date, ...]


def _names(skus: Sequence[str]) -> str:
    shown = ", ".join(skus[:NOTE_SKUS])
    return shown + (f" and {len(skus) - NOTE_SKUS} more" if len(skus) > NOTE_SKUS else "")


def replay_window(history: pl.DataFrame, cycle: date, months: int) -> tuple[list[date], date, list[str]]:
    """The replay's months: the `months` months before `cycle`, ending at the last month with any actual and
    starting after the first (a plan needs one month of history); and the first month a simulation may
    start at. Notes say where the window was cut."""
    if months < 1:
        raise ReplayError(f"--months must be at least 1, got {months}")
    known = history.filter((pl.col("month") < cycle) & pl.col("units").is_not_null())
    if "is_missing" in known.columns:
        known = known.filter(~pl.col("is_missing").fill_null(False))
    if known.is_empty():
        raise ReplayError(f"no actuals before cycle {cycle:%Y-%m}: there is nothing to replay")
    first, last = known["month"].min(), known["month"].max()
    notes = []
    end = add_months(cycle, -1)
    if last < end:
        notes.append(f"the actuals end in {last:%Y-%m}: the replay ends there, not in {end:%Y-%m}")
        end = last
    start, earliest = add_months(end, -(months - 1)), add_months(first, 1)
    if start < earliest:
        start = earliest
        if start > end:
            raise ReplayError(f"the actuals hold only {first:%Y-%m}: a replay needs a month of history before "
                              "the months it replays")
        notes.append(f"only {len(_months(start, end))} months have history before them: the replay starts in "
                     f"{start:%Y-%m}, not the {months} months asked for")
    return _months(start, end), earliest, notes


def warm_up_months(window: list[date], earliest: date, lead_times: Iterable[int]) -> list[date]:
    """The months simulated before the window and not scored: the longest lead time plus one, as far as the
    history allows. Every SKU starting at its target stock at once would order its first MOQ in the same
    month, a wave no supplier's capacity sees in a running business; by the window it has passed."""
    length = max([int(lead) for lead in lead_times] + [0]) + 1
    start = max(add_months(window[0], -length), earliest)
    return _months(start, add_months(window[0], -1)) if start < window[0] else []


def _months(start: date, end: date) -> list[date]:
    out, month = [], start
    while month <= end:
        out.append(month)
        month = add_months(month, 1)
    return out


def _items(products: pl.DataFrame, history: pl.DataFrame, window: list[date], lead_time_months: int | None
           ) -> tuple[pl.DataFrame, list[str]]:
    """The products replayed, with the month each launched (`launch`) and the lead time used; notes on the
    SKUs left out, launched inside the window, discontinued in it, or waiting longer than it."""
    first_sale = history.group_by("sku").agg(pl.col("month").min().alias("_first_sale"))
    start, end = window[0], window[-1]
    frame = products.join(first_sale, on="sku", how="left").with_columns(
        pl.coalesce(pl.col("launch_date").dt.month_start(), pl.col("_first_sale"), pl.lit(start)).alias("launch")
    )
    if lead_time_months is not None:
        if lead_time_months < 0:
            raise ReplayError(f"--lead-time-months must be 0 or more, got {lead_time_months}")
        frame = frame.with_columns(pl.lit(lead_time_months, pl.Int32).alias("lead_time_months"))
    stopped = ((pl.col("discontinue_date") < start) | (
        (pl.col("status") == "discontinued") & pl.col("discontinue_date").is_null())).fill_null(False)
    notes = []
    gone = frame.filter(stopped)["sku"].sort().to_list()
    if gone:
        notes.append(f"{len(gone)} SKU(s) stopped selling before {start:%Y-%m} and are not replayed: {_names(gone)}")
    later = frame.filter(~stopped & (pl.col("launch") > end))["sku"].sort().to_list()
    if later:
        notes.append(f"{len(later)} SKU(s) launch after {end:%Y-%m} and are not replayed: {_names(later)}")
    items = frame.filter(~stopped & (pl.col("launch") <= end)).sort("sku")
    launched = items.filter(pl.col("launch") > start)["sku"].to_list()
    if launched:
        notes.append(f"{len(launched)} SKU(s) launched during the replay and enter it at their launch month with "
                     f"each policy's target stock (naive plans nothing for a SKU before it has sold): "
                     f"{_names(launched)}")
    ending = items.filter(pl.col("discontinue_date").is_not_null() & (pl.col("discontinue_date") <= end))
    if ending.height:
        notes.append(f"{ending.height} SKU(s) stop selling during the replay; their stock left is counted in "
                     f"excess at the end: {_names(ending['sku'].to_list())}")
    return items, notes


def _demand_notes(history: pl.DataFrame, window: list[date], until: date) -> list[str]:
    notes = []
    in_window = history.filter(pl.col("month").is_in(window))
    missing = pl.col("units").is_null()
    if "is_missing" in in_window.columns:
        missing = missing | pl.col("is_missing").fill_null(False)
    by_month = in_window.group_by("month").agg((~missing).sum().alias("_known"))
    empty = sorted(set(window) - set(by_month.filter(pl.col("_known") > 0)["month"].to_list()))
    for month in empty:
        notes.append(f"{month:%Y-%m} has no actuals: its demand is estimated from the months around it (the "
                     "forecast's imputation), and counts as none where no month around it is known")
    unknown = unknown_months(history, until).filter(pl.col("month").is_in(window))
    if unknown.height:
        notes.append(f"{unknown.height} SKU-month(s) of the replay have unknown sales and no known month around "
                     "them: they count as no demand")
    return notes


def run_replay(
    inputs: ReplayInputs,
    forecaster: Forecaster,
    months: int = DEFAULT_MONTHS,
    policies: Iterable[str] = POLICIES,
    targets: Iterable[float] = TRADE_OFF_TARGETS,
    lead_time_months: int | None = None,
    holding_cost_rate: float = HOLDING_COST_RATE,
) -> Replay:
    """Replay the `months` months before the cycle (docs/replay.md). `forecaster` computes one backtest
    fold (`forecast.backtest.origin_forecasts`'s signature, with its cache bound); `lead_time_months`, when
    given, replaces every SKU's lead time (a data set without supplier terms)."""
    policies, targets = check_policies(policies), check_targets(targets)
    cycle = inputs.cycle
    history = inputs.history.filter(pl.col("month") < cycle)
    window, earliest, notes = replay_window(history, cycle, months)
    until = add_months(window[-1], 1)
    items, item_notes = _items(inputs.products, history, window, lead_time_months)
    notes += item_notes + _demand_notes(history, window, until)
    simulated = warm_up_months(window, earliest, items["lead_time_months"]) + window
    items = items.with_columns(pl.max_horizontal("launch", pl.lit(simulated[0])).alias("entry"))
    long = items.filter(pl.col("lead_time_months") >= len(simulated))["sku"].to_list()
    if long:
        notes.append(f"{len(long)} SKU(s) have a lead time of {len(simulated)} months or more, as long as the "
                     f"history allows the replay to run: no order it places arrives in time, so they show only "
                     f"their starting stock: {_names(long)}")
    blind = [m for m in window if not backtest_origins(history.filter(pl.col("month") < m), inputs.backtest_origins)]
    if blind:
        notes.append(f"{len(blind)} month(s) of the replay ({blind[0]:%Y-%m} to {blind[-1]:%Y-%m}) come before any "
                     "backtest origin with a year of history: no forecast errors to size safety stock from, so it is "
                     "0, and production takes the global model")
    if CONSENSUS in policies and inputs.overrides.filter(pl.col("cycle").is_in(window)).is_empty():
        notes.append("no overrides were landed for the replay's months: consensus is production plus events")

    world = actual_demand(history, until)
    demand_by_month: dict[date, dict[str, tuple[float, bool]]] = {}
    for sku, month, units, estimated in world.filter(pl.col("month").is_in(simulated)).iter_rows():
        demand_by_month.setdefault(month, {})[sku] = (units, estimated)
    scenario = replace(inputs.scenario, demand_quantile=None, demand_multiplier=1.0)  # the policy is the demand
    # Products as the models read them (lead times as replayed), and the SKUs' entry months.
    products = inputs.products.join(items.select("sku", "lead_time_months"), on="sku", how="left", suffix="_replay")
    products = products.with_columns(
        pl.coalesce("lead_time_months_replay", "lead_time_months").alias("lead_time_months"))
    folds = Folds(history, products.drop("lead_time_months_replay"), inputs.events, inputs.horizon,
                  inputs.backtest_origins, forecaster)
    entry = dict(items.select("sku", "entry").iter_rows())
    lead = dict(items.select("sku", "lead_time_months").iter_rows())
    runs = [(policy, target) for policy in policies for target in (None, *targets)]
    # Perfect foresight's errors are zero, so its safety stock is zero at every target: one run serves all.
    simulated_runs = [run for run in runs if run[0] != PERFECT_FORESIGHT or run[1] is None]
    ledgers = {run: Ledger() for run in simulated_runs}
    for month in simulated:
        present = items.filter(pl.col("entry") <= month)
        classes = abc_classes(history, present["sku"], month, inputs.abc_a_share, inputs.abc_b_share)
        month_products = present.drop("abc_class", strict=False).join(classes, on="sku").select(PRODUCT_COLUMNS)
        buffers_of = month_products.select("sku", "abc_class", "lead_time_months")
        plans = policy_plans(folds, month, policies, inputs.overrides, world)
        for policy, target in simulated_runs:
            forecast, evidence = plans[policy]
            levels = inputs.service_levels if target is None else {"A": target, "B": target, "C": target}
            buffers = safety_stock_by_sku(evidence, buffers_of, levels)
            plan = PolicyMonth(
                forecast=forecast.filter(pl.col("sku").is_in(month_products["sku"])),
                safety_stock=dict(buffers.select("sku", "safety_stock").iter_rows()),
                service_level=dict(buffers.select("sku", "service_level").iter_rows()),
            )
            ledger = ledgers[(policy, target)]
            for sku in sorted(s for s in month_products["sku"] if entry[s] == month):
                ledger.enter(sku, plan, int(lead[sku]))
            ledger.live_month(month, inputs.horizon, month_products, plan, demand_by_month.get(month, {}),
                              inputs.suppliers, scenario, inputs.excess_cover_months)

    costs = items.select("sku", pl.col("unit_cost").cast(pl.Float64), pl.col("unit_price").cast(pl.Float64))
    frames = [ledgers[(policy, None) if policy == PERFECT_FORESIGHT else (policy, target)].frame().with_columns(
        pl.lit(policy).alias("policy"), pl.lit(target, pl.Float64).alias("service_target"),
        *([pl.lit(target, pl.Float64).alias("service_level")] if policy == PERFECT_FORESIGHT and target else []),
    ) for policy, target in runs]
    replay = (
        pl.concat(frames).filter(pl.col("month").is_in(window)).join(costs, on="sku", how="left")
        .with_columns((pl.col("closing") * pl.col("unit_cost")).alias("value"))
        .select([pl.col(name).cast(dtype) for name, dtype in REPLAY_SCHEMA.items()])
    )
    order = {p: i for i, p in enumerate(POLICIES)}
    replay = replay.sort(pl.col("policy").replace_strict(order, return_dtype=pl.Int32), "service_target", "sku",
                         "month", nulls_last=False)
    summary = summarise(replay, costs, inputs.excess_cover_months, holding_cost_rate)
    summary = summary.sort(pl.col("policy").replace_strict(order, return_dtype=pl.Int32), "service_target",
                           nulls_last=False)
    return Replay(replay=replay, summary=summary, verdict=verdict(summary, len(window)), notes=tuple(notes),
                  months=tuple(window))
