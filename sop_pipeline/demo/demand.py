"""Units sold per SKU x channel x month, from the `demand` stream (level x trend x season x life cycle x events,
with noise, slow movers' lumps and stockout months), and the order lines that carry them, from the `sales` stream
(days, customers, prices and discounts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sop_pipeline.demo.catalogue import CHANNELS, FAMILIES, MARKETPLACE, WHOLESALE, Catalogue
from sop_pipeline.demo.dates import Calendar
from sop_pipeline.demo.events import EventEffects

# Demand shape.
TREND_MEAN, TREND_SD = 0.10, 0.12  # yearly growth rate across SKUs
SEASON_PROFILE = np.array([-0.30, -0.25, -0.10, -0.05, 0.0, -0.10, -0.15, -0.10, 0.0, 0.15, 0.40, 0.50])  # Jan..Dec
SEASON_FLOOR = 0.2
LAUNCH_RAMP = np.array([0.5, 0.75, 0.9])  # share of the mature level in the first months after launch
RUNDOWN_MONTHS, RUNDOWN_FLOOR = 6, 0.5  # demand fades to half over the last months before discontinuation
# The gamma shape of each channel's demand noise (lower = lumpier: wholesale buys in cartons, DTC orders are
# many and small).
NOISE_SHAPE = np.array([12.0, 3.0, 8.0])

# Stockouts.
STOCKOUT_SHARE, STOCKOUT_MONTHS = 0.10, (1, 4)  # SKUs with 1-3 stockout months
STOCKOUT_FILL = (0.0, 0.4)  # share of the month's demand sold before the shelf went empty

COVER_LOOKBACK = 3  # months of recent sales: cover in the last snapshot, the level this cycle's overrides start from

# Order lines.
MAX_LINES_PER_CELL, LINE_SPLIT_HALF = 4, 10.0  # a SKU-channel-month of 10 units averages 2.5 lines
WHOLESALE_ACCOUNTS, WHOLESALE_ACCOUNTS_BOUNDS, ACCOUNT_SIZE_SKEW = 36, (12, 400), 0.9
CONSUMERS_PER_LINE, CONSUMERS_MIN = 0.5, 500  # repeat buyers: half as many consumers as lines
MARKETPLACE_PRICE_FACTOR = 0.85  # the marketplace's commission
WHOLESALE_PRICE_FACTOR = (0.50, 0.60)  # each account negotiates its own discount off list price


@dataclass(frozen=True)
class Demand:
    reference: np.ndarray  # (S, M) expected full-month units without noise or promotions; 0 when not selling
    units: np.ndarray  # (S, C, M) units sold
    first_day: np.ndarray  # (S, M) first and last day of the month the SKU could sell (first > last: none)
    last_day: np.ndarray
    stockout: np.ndarray  # (S, M) the shelf ran empty that month


def _selling_window(cal: Calendar, cat: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """First and last day of each month (1-based) on which each SKU could sell."""
    first = np.maximum(cal.month_start[None, :], cat.launch_day[:, None]) - cal.month_start[None, :] + 1
    last = np.minimum(cal.month_end[None, :], cat.end_day[:, None]) - cal.month_start[None, :] + 1
    return first, last


def _life_cycle_factor(cal: Calendar, cat: Catalogue) -> np.ndarray:
    """Ramp-up over the first months after launch, fade over the last months before the end."""
    month = np.arange(cal.months)[None, :]
    since_launch = month - cal.month_index(cat.launch_day)[:, None]
    ramp = np.where(since_launch < len(LAUNCH_RAMP), LAUNCH_RAMP[np.clip(since_launch, 0, len(LAUNCH_RAMP) - 1)], 1.0)
    before_end = cal.month_index(cat.end_day)[:, None] - month
    fade = np.clip(RUNDOWN_FLOOR + (1 - RUNDOWN_FLOOR) * before_end / RUNDOWN_MONTHS, RUNDOWN_FLOOR, 1.0)
    return ramp * fade


def simulate_demand(rng: np.random.Generator, cal: Calendar, cat: Catalogue, effects: EventEffects) -> Demand:
    """Units sold per SKU x channel x month: level x trend x season x life cycle x events, with noise,
    slow movers selling in occasional lumps, and stockout months cut short."""
    first, last = _selling_window(cal, cat)
    live_share = np.clip(last - first + 1, 0, None) / cal.month_days[None, :]
    growth = rng.normal(# Demand shape.
TREND_MEAN, TREND_SD, cat.size)
    trend = np.exp(growth[:, None] * (np.arange(cal.months)[None, :] - (cal.months - 1)) / 12)
    amplitude = np.array([f.seasonality for f in FAMILIES])[cat.family]
    season = np.maximum(1 + amplitude[:, None] * SEASON_PROFILE[cal.month_of_year][None, :], SEASON_FLOOR)
    level = cat.base_units[:, None] * trend * season * _life_cycle_factor(cal, cat)
    reference = level * (live_share > 0)

    expected = (level * live_share)[:, None, :] * cat.channel_share[:, :, None] * effects.uplift
    shape = NOISE_SHAPE[None, :, None]
    regular = rng.poisson(expected * rng.gamma(shape, 1 / shape, expected.shape))
    units = np.where(cat.intermittent[:, None, None], _slow_mover_lumps(rng, cat, level * live_share), regular)

    stockout = _stockout_months(rng, cal, cat, first, last)
    fill = np.where(stockout, rng.uniform(*STOCKOUT_FILL, stockout.shape), 1.0)
    units = rng.binomial(units, fill[:, None, :])
    return Demand(reference, units.astype(np.int64), first, last, stockout)


def _slow_mover_lumps(rng: np.random.Generator, cat: Catalogue, mean_units: np.ndarray) -> np.ndarray:
    """Most months nothing; now and then a small lump, in one of the SKU's channels."""
    lump = 1 + cat.lump_size[:, None]
    sells = rng.random(mean_units.shape) < np.clip(mean_units / lump, 0, 0.9)
    size = 1 + rng.poisson(np.broadcast_to(cat.lump_size[:, None], mean_units.shape))
    cumulative = np.cumsum(cat.channel_share, axis=1)
    cumulative /= cumulative[:, -1:]  # exactly 1.0 at the end, so some channel is always picked
    pick = rng.random(mean_units.shape)
    channel = np.argmax(pick[:, None, :] < cumulative[:, :, None], axis=1)
    lumps = np.zeros((cat.size, len(CHANNELS), mean_units.shape[1]), dtype=np.int64)
    s, m = np.nonzero(sells)
    lumps[s, channel[s, m], m] = size[s, m]
    return lumps


def _stockout_months(rng: np.random.Generator, cal: Calendar, cat: Catalogue,
                     first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """~10 % of regular SKUs run dry for 1-3 full selling months (never their launch month)."""
    full = (first == 1) & (last == cal.month_days[None, :])
    full &= np.arange(cal.months)[None, :] > cal.month_index(cat.launch_day)[:, None]
    eligible = np.flatnonzero(~cat.intermittent & ~cat.recent_launch & (full.sum(axis=1) >= STOCKOUT_MONTHS[1]))
    chosen = rng.choice(eligible, size=min(len(eligible), max(1, round(STOCKOUT_SHARE * cat.size))), replace=False)
    stockout = np.zeros_like(full)
    for s in np.sort(chosen).tolist():
        months = rng.choice(np.flatnonzero(full[s]), size=int(rng.integers(*STOCKOUT_MONTHS)), replace=False)
        stockout[s, months] = True
    return stockout


def _split_quantities(rng: np.random.Generator, quantity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split each cell's units into 1-4 positive order lines, fewer when the quantity is small."""
    lines = np.minimum(quantity, 1 + rng.binomial(MAX_LINES_PER_CELL - 1, quantity / (quantity + LINE_SPLIT_HALF)))
    used = np.arange(MAX_LINES_PER_CELL)[None, :] < lines[:, None]
    weight = rng.exponential(size=used.shape) * used
    parts = np.floor((quantity - lines)[:, None] * weight / weight.sum(axis=1, keepdims=True)).astype(np.int64) + used
    parts[:, 0] += quantity - parts.sum(axis=1)
    return lines, parts[used]


def draw_order_lines(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand,
                 effects: EventEffects) -> tuple[pl.DataFrame, np.ndarray]:
    """Order lines on random days of each month (concentrated in promotion windows, discounted there).

    Also returns net revenue per family x history month, which the budget extrapolates.
    """
    s, c, m = np.nonzero(demand.units)
    lines, quantity = _split_quantities(rng, demand.units[s, c, m])
    s, c, m = (np.repeat(a, lines) for a in (s, c, m))
    day = _line_days(rng, cal, demand, effects, s, c, m)
    in_window = (day >= effects.window_first[s, c, m]) & (day <= effects.window_last[s, c, m])
    discount = np.where(in_window, effects.discount[s, c, m], 0.0)

    customer, price_factor = _customers(rng, cat, c)
    revenue = np.round(quantity * cat.unit_price[s] * price_factor * (1 - discount), 2)
    family_revenue = np.bincount(cat.family[s] * cal.months + m, weights=revenue,
                                 minlength=len(FAMILIES) * cal.months).reshape(len(FAMILIES), cal.months)

    order = np.lexsort((c, s, day, m))
    width = max(7, len(str(len(order))))
    sales = pl.DataFrame({
        "date": (cal.month_start[m] + day - 1)[order].astype("datetime64[D]"),
        "sku": pl.Series(cat.sku).gather(s[order]),
        "channel": pl.Series(CHANNELS).gather(c[order]),
        "quantity": quantity[order],
        "net_revenue": revenue[order],
        "customer": customer.gather(order),
    }).with_columns(order_id=pl.format("SO-{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(width)))
    return sales, family_revenue


def _line_days(rng: np.random.Generator, cal: Calendar, demand: Demand, effects: EventEffects,
               s: np.ndarray, c: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Day of month of each line: within the SKU's selling days, and inside a promotion's window as
    often as the promotion's extra demand implies."""
    first, last = demand.first_day[s, m], demand.last_day[s, m]
    window_first = np.maximum(first, effects.window_first[s, c, m])
    window_last = np.minimum(last, effects.window_last[s, c, m])
    width = np.clip(window_last - window_first + 1, 0, None)
    uplift = effects.uplift[s, c, m]
    chance = np.where(width > 0, (uplift - 1 + width / cal.month_days[m]) / uplift, 0.0)
    inside = rng.random(len(s)) < chance
    low, high = np.where(inside, window_first, first), np.where(inside, window_last, last)
    return low + np.floor(rng.random(len(s)) * (high - low + 1)).astype(np.int64)


def _customers(rng: np.random.Generator, cat: Catalogue, channel: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Customer code and list-price factor per line: a few dozen wholesale accounts of very unequal
    size with their own terms, and a large pool of repeat consumers on DTC and the marketplace."""
    accounts = int(np.clip(round(WHOLESALE_ACCOUNTS * np.sqrt(cat.size / 150)), *WHOLESALE_ACCOUNTS_BOUNDS))
    account_weight = 1 / np.arange(1, accounts + 1) ** ACCOUNT_SIZE_SKEW
    account_factor = rng.uniform(*WHOLESALE_PRICE_FACTOR, accounts)
    wholesale = channel == WHOLESALE
    consumers = max(CONSUMERS_MIN, round(CONSUMERS_PER_LINE * int((~wholesale).sum())))
    account = rng.choice(accounts, size=len(channel), p=account_weight / account_weight.sum())
    consumer = rng.integers(0, consumers, len(channel))
    number = np.where(wholesale, account, consumer) + 1
    factor = np.select([wholesale, channel == MARKETPLACE], [account_factor[account], MARKETPLACE_PRICE_FACTOR], 1.0)
    code = pl.DataFrame({"wholesale": wholesale, "number": number}).select(
        pl.when(pl.col("wholesale"))
        .then(pl.format("WS-{}", pl.col("number").cast(pl.String).str.zfill(max(3, len(str(accounts))))))
        .otherwise(pl.format("C-{}", pl.col("number").cast(pl.String).str.zfill(max(6, len(str(consumers))))))
    ).to_series()
    return code, factor
