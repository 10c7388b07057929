"""Deterministic demo data: a small home-fragrance brand's landing files (SPEC §3).

The demo has to exercise every part of the pipeline, so the data is built to contain what a
planner meets in real exports: a few SKUs carrying most of the revenue (ABC), Q4-peaked
seasonality, slow movers, promotions that really lift sales, launches and discontinuations,
stockouts that censor demand, SKUs near stockout and in excess at the cycle, late purchase
orders, a supplier too small for its Q4 peak, a budget a little above trend, and overrides for this
cycle and the twelve before it (informed SKU quantities that help, optimistic family percentages that hurt).

Everything is drawn from numpy generators spawned from one seed, one per part of the data, so
the same arguments give byte-identical files. Each stream's draws live in their own module
(catalogue, events, demand, purchasing, plans, cash); this one checks the arguments, spawns the
streams, hands each to its module and writes the files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from sop_pipeline.demo.cash import draw_cash
from sop_pipeline.demo.catalogue import draw_catalogue, products_frame
from sop_pipeline.demo.dates import history_calendar
from sop_pipeline.demo.demand import draw_order_lines, simulate_demand
from sop_pipeline.demo.events import (
    draw_event_effects,
    draw_future_events,
    draw_history_promotions,
    draw_launch_events,
    events_frame,
)
from sop_pipeline.demo.plans import approvals_frame, decisions_frame, draw_budget, draw_overrides, draw_past_overrides
from sop_pipeline.demo.purchasing import draw_inventory, draw_purchase_orders, draw_suppliers
from sop_pipeline.ingest.contract import (
    APPROVALS,
    BUDGET,
    DATASETS,
    DECISIONS,
    EVENTS,
    INVENTORY,
    MISSING_MONTHS,
    OVERRIDES,
    PRODUCTS,
    PURCHASE_ORDERS,
    SALES,
    SUPPLIERS,
    Dataset,
)

DEMO_CYCLE = date(2026, 11, 1)  # the fixed default cycle of `make demo`
MIN_SKUS, MIN_MONTHS = 20, 12  # below this the demo cannot hold every situation it is meant to show

FLOAT_DECIMALS = 2  # every float column is money or a fraction: two decimals
# Spawned streams are numbered by position, so a new stream goes at the end and leaves the others' draws alone.
RANDOM_STREAMS = (
    "catalogue", "events", "demand", "sales", "inventory", "purchasing", "suppliers", "plans", "past_plans", "cash",
)


def generate_demo(out_dir: Path, *, skus: int = 150, months: int = 48, seed: int = 7,
                  cycle: date = DEMO_CYCLE) -> dict[str, int]:
    """Write every input data set as out_dir/<dataset>/<dataset>.csv; return rows written per data set."""
    _check_arguments(skus, months, cycle)
    rngs = dict(zip(RANDOM_STREAMS, np.random.default_rng(seed).spawn(len(RANDOM_STREAMS))))
    cal = history_calendar(cycle, months)
    cat = draw_catalogue(rngs["catalogue"], cal, skus)
    # Where one stream serves several calls their order is part of the data: events (history, launches, effects,
    # future events), plans (overrides, then budget).
    history_events = draw_history_promotions(rngs["events"], cal, cat)
    history_events += draw_launch_events(rngs["events"], cal, cat)
    effects = draw_event_effects(rngs["events"], cal, cat, history_events)
    upcoming = draw_future_events(rngs["events"], cal, cat)
    demand = simulate_demand(rngs["demand"], cal, cat, effects)
    sales, family_revenue = draw_order_lines(rngs["sales"], cal, cat, demand, effects)
    frames = {
        PRODUCTS.name: products_frame(cat),
        SALES.name: sales,
        # The demo's exports have no gaps: a header-only file shows the data set's shape.
        MISSING_MONTHS.name: pl.DataFrame(schema={name: pl.String for name in MISSING_MONTHS.column_names}),
        INVENTORY.name: draw_inventory(rngs["inventory"], cal, cat, demand),
        PURCHASE_ORDERS.name: draw_purchase_orders(rngs["purchasing"], cal, cat, demand),
        SUPPLIERS.name: draw_suppliers(rngs["suppliers"], cat, demand),
        EVENTS.name: events_frame(cat, history_events + upcoming),
        OVERRIDES.name: pl.concat([draw_past_overrides(rngs["past_plans"], cal, cat, demand),
                                   draw_overrides(rngs["plans"], cal, cat, demand)]),
        BUDGET.name: draw_budget(rngs["plans"], cal, family_revenue),
        **draw_cash(rngs["cash"], cal, family_revenue),
        DECISIONS.name: decisions_frame(cycle, products_frame(cat)),
        APPROVALS.name: approvals_frame(cycle),
    }
    return {dataset.name: _write(Path(out_dir), dataset, frames[dataset.name]) for dataset in DATASETS}


def _check_arguments(skus: int, months: int, cycle: date) -> None:
    if skus < MIN_SKUS:
        raise ValueError(f"skus must be at least {MIN_SKUS}, got {skus}")
    if months < MIN_MONTHS:
        raise ValueError(f"months must be at least {MIN_MONTHS} (a year of history), got {months}")
    if cycle.day != 1:
        raise ValueError(f"cycle must be the first day of a month, got {cycle.isoformat()}")


def _write(out_dir: Path, dataset: Dataset, frame: pl.DataFrame) -> int:
    """Write one data set in the contract's column order: ISO dates, fixed decimals, empty cells for nulls."""
    folder = out_dir / dataset.name
    folder.mkdir(parents=True, exist_ok=True)
    frame.select(dataset.column_names).write_csv(
        folder / f"{dataset.name}.csv", float_precision=FLOAT_DECIMALS, date_format="%Y-%m-%d", null_value=""
    )
    return frame.height

