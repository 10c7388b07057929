"""Promotions, launches and a new wholesale account, from the `events` stream: the history's events and what
they really did to each SKU x channel x month, and the events planned for the coming months."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sop_pipeline.demo.catalogue import CHANNELS, FAMILIES, WHOLESALE, Catalogue
from sop_pipeline.demo.dates import Calendar, as_dates, month_bounds

PROMOS_PER_YEAR = (8, 12)
FUTURE_PROMOS, FUTURE_PROMO_MONTHS = (3, 5), 6
PROMO_MONTH_WEIGHTS = np.array([1.0, 1.2, 0.6, 0.6, 1.2, 0.5, 1.0, 0.5, 0.7, 0.8, 2.0, 1.5])  # Jan..Dec
OCCASIONS = (
    "January sale", "Valentine's edit", "Spring refresh", "Easter gifting", "Mother's Day", "Midsummer offer",
    "Summer sale", "Late summer offer", "Autumn welcome", "Cosy season", "Black Friday", "Holiday gifting",
)
SKU_PROMO_SHARE, CHANNEL_PROMO_SHARE = 0.3, 0.35
PROMO_CHANNEL_ODDS = np.array([0.6, 0.0, 0.4])  # channel-only promotions run on DTC or the marketplace
PROMO_DAYS = (3, 11)
PROMO_UPLIFT = (0.2, 0.6)
REALISED_UPLIFT = (0.7, 1.3)  # what a promotion really did, relative to its planned uplift
DISCOUNT_PER_UPLIFT = 0.5  # a +40 % promotion sells at 20 % off
LAUNCH_UPLIFT, LAUNCH_EVENT_DAYS = (0.2, 0.5), 28
NEW_ACCOUNT_UPLIFT, NEW_ACCOUNT_START, NEW_ACCOUNT_MONTHS = (0.15, 0.25), 2, 6


@dataclass(frozen=True)
class Event:
    event_type: str
    start_day: int
    end_day: int
    uplift: float
    description: str
    sku: int = -1  # index into the catalogue; -1 when the event covers a family
    family: int = -1
    channel: int = -1  # -1 = every channel


@dataclass(frozen=True)
class EventEffects:
    """What the historical events did to each SKU x channel x month cell."""

    uplift: np.ndarray  # (S, C, M) demand multiplier
    window_first: np.ndarray  # (S, C, M) day of month a promotion starts, 0 = no promotion
    window_last: np.ndarray
    discount: np.ndarray  # (S, C, M) price discount inside the promotion window


def _selling_in_month(cat: Catalogue, start: int, days: int) -> np.ndarray:
    """Regular SKUs selling the whole month: the ones a SKU-level promotion can feature."""
    return np.flatnonzero((cat.launch_day <= start) & (cat.end_day >= start + days - 1) & ~cat.intermittent)


def _promotion(rng: np.random.Generator, cat: Catalogue, start: int, days: int, month_of_year: int) -> Event:
    """One promotion inside one month: mostly a family, sometimes a strong SKU, sometimes one channel only."""
    candidates = _selling_in_month(cat, start, days)
    sku, family, channel = -1, -1, -1
    if candidates.size and rng.random() < SKU_PROMO_SHARE:
        weights = cat.base_units[candidates]
        sku = int(rng.choice(candidates, p=weights / weights.sum()))
    else:
        family = int(rng.choice(np.unique(cat.family)))
    if rng.random() < CHANNEL_PROMO_SHARE:
        channel = int(rng.choice(len(CHANNELS), p=PROMO_CHANNEL_ODDS))
        if sku >= 0 and cat.channel_share[sku, channel] == 0:
            channel = -1
    length = int(rng.integers(*PROMO_DAYS))
    first = start + int(rng.integers(0, days - length + 1))
    target = FAMILIES[family].name if sku < 0 else str(cat.name[sku])
    only = f" ({CHANNELS[channel]} only)" if channel >= 0 else ""
    return Event("promotion", first, first + length - 1, round(float(rng.uniform(*PROMO_UPLIFT)), 2),
                 f"{OCCASIONS[month_of_year]}: {target}{only}", sku, family, channel)


def draw_history_promotions(rng: np.random.Generator, cal: Calendar, cat: Catalogue) -> list[Event]:
    """About 8-12 promotions per year, more often in Q4 and around gifting days."""
    count = round(int(rng.integers(PROMOS_PER_YEAR[0], PROMOS_PER_YEAR[1] + 1)) * cal.months / 12)
    weights = PROMO_MONTH_WEIGHTS[cal.month_of_year]
    months = np.sort(rng.choice(cal.months, size=count, p=weights / weights.sum()))
    return [
        _promotion(rng, cat, int(cal.month_start[m]), int(cal.month_days[m]), int(cal.month_of_year[m]))
        for m in months.tolist()
    ]


def draw_launch_events(rng: np.random.Generator, cal: Calendar, cat: Catalogue) -> list[Event]:
    """One launch event per SKU launched during the history, with the push it got in its first weeks."""
    launched = np.flatnonzero(cat.launch_day >= cal.month_start[0])
    uplifts = np.round(rng.uniform(*LAUNCH_UPLIFT, len(launched)), 2)
    return [
        Event("launch", int(cat.launch_day[s]), int(cat.launch_day[s]) + LAUNCH_EVENT_DAYS - 1, float(u),
              f"Launch: {cat.name[s]}", sku=int(s))
        for s, u in zip(launched.tolist(), uplifts.tolist())
    ]


def draw_future_events(rng: np.random.Generator, cal: Calendar, cat: Catalogue) -> list[Event]:
    """Promotions planned for the next months and one wholesale account about to open."""
    count = int(rng.integers(FUTURE_PROMOS[0], FUTURE_PROMOS[1] + 1))
    ahead = rng.choice(FUTURE_PROMO_MONTHS, size=count)
    starts, days = month_bounds(cal.cycle_month + ahead)
    events = [
        _promotion(rng, cat, int(s), int(d), int((cal.cycle_month + a) % 12))
        for s, d, a in zip(starts.tolist(), days.tolist(), ahead.tolist())
    ]
    opening, closing = month_bounds(cal.cycle_month + np.array([NEW_ACCOUNT_START, NEW_ACCOUNT_START + NEW_ACCOUNT_MONTHS]))[0]
    wholesale = np.bincount(cat.family, weights=cat.base_units * cat.channel_share[:, WHOLESALE], minlength=len(FAMILIES))
    family = int(np.argmax(wholesale))
    events.append(Event(
        "new_account", int(opening), int(closing) - 1, round(float(rng.uniform(*NEW_ACCOUNT_UPLIFT)), 2),
        f"New wholesale account: Harbor & Home, 120 doors ({FAMILIES[family].name})", family=family, channel=WHOLESALE,
    ))
    return events


def draw_event_effects(rng: np.random.Generator, cal: Calendar, cat: Catalogue, events: list[Event]) -> EventEffects:
    """Apply each historical event to its month's cells: the realised uplift varies around the planned one."""
    shape = (cat.size, len(CHANNELS), cal.months)
    uplift = np.ones(shape)
    window_first = np.zeros(shape, dtype=np.int8)
    window_last = np.zeros(shape, dtype=np.int8)
    discount = np.zeros(shape, dtype=np.float32)
    months = cal.month_index(np.array([e.start_day for e in events], dtype=np.int64))
    for event, month in zip(events, months.tolist()):
        rows = [event.sku] if event.sku >= 0 else np.flatnonzero(cat.family == event.family)
        channels = [event.channel] if event.channel >= 0 else list(range(len(CHANNELS)))
        cells = np.ix_(rows, channels, [month])
        uplift[cells] *= 1 + event.uplift * rng.uniform(*REALISED_UPLIFT)
        if event.event_type == "promotion":
            window_first[cells] = event.start_day - cal.month_start[month] + 1
            window_last[cells] = event.end_day - cal.month_start[month] + 1
            discount[cells] = round(event.uplift * DISCOUNT_PER_UPLIFT, 2)
    return EventEffects(uplift, window_first, window_last, discount)


def events_frame(cat: Catalogue, events: list[Event]) -> pl.DataFrame:
    """Events in date order, numbered in that order."""
    def text(values: list[str | None]) -> pl.Series:
        return pl.Series(values, dtype=pl.String)

    events = sorted(events, key=lambda e: (e.start_day, e.event_type, e.sku, e.family, e.channel, e.end_day))
    width = max(4, len(str(len(events))))
    return pl.DataFrame({
        "event_id": [f"EV-{i + 1:0{width}d}" for i in range(len(events))],
        "event_type": [e.event_type for e in events],
        "sku": text([str(cat.sku[e.sku]) if e.sku >= 0 else None for e in events]),
        "family": text([FAMILIES[e.family].name if e.family >= 0 else None for e in events]),
        "channel": text([CHANNELS[e.channel] if e.channel >= 0 else None for e in events]),
        "start_date": as_dates([e.start_day for e in events]),
        "end_date": as_dates([e.end_day for e in events]),
        "uplift_pct": [e.uplift for e in events],
        "description": [e.description for e in events],
    })
