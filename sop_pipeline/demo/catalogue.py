"""The catalogue, from the `catalogue` stream: families, SKUs and their names, suppliers, costs and prices, MOQs,
life cycles (launches, discontinuations, slow movers), mature demand levels, channel mixes and which SKUs are
also stocked in WH-EU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sop_pipeline.demo.dates import NO_END, Calendar, as_dates

CHANNELS = ("DTC", "Wholesale", "Marketplace")
WHOLESALE, MARKETPLACE = CHANNELS.index("Wholesale"), CHANNELS.index("Marketplace")
CHANNEL_MIX = np.array([0.45, 0.35, 0.20])
CHANNEL_MIX_CONCENTRATION = 6.0  # Dirichlet concentration of each SKU's channel mix around CHANNEL_MIX
THREE_CHANNEL_SHARE = 0.5  # the others sell in two channels; DTC is rarely the one dropped
DROPPED_CHANNEL_ODDS = np.array([0.15, 0.45, 0.40])

EU_STOCKED_SHARE = 1 / 3  # SKUs also stocked in WH-EU

# Demand levels.
BASE_UNITS_MEDIAN, BASE_UNITS_SIGMA, BASE_UNITS_MAX = 40.0, 1.3, 4000.0  # log-normal monthly units
INTERMITTENT_RATE = (0.08, 0.30)  # chance a slow mover sells in a month
INTERMITTENT_LUMP = (1.0, 5.0)  # mean extra units when it does

# Life cycle: shares of the catalogue.
NEW_SHARE, NEW_WINDOW_MONTHS = 0.06, 6
DISCONTINUED_SHARE, DISCONTINUED_WINDOW_MONTHS = 0.05, 24
PHASE_OUT_SHARE, PHASE_OUT_MIN = 0.015, 2
PHASE_OUT_END_DAYS = (30, 181)  # the last selling day lies this many days after the cycle
HISTORY_LAUNCH_SHARE = 0.2  # of the remaining SKUs, launched during the history window
PRE_HISTORY_AGE_DAYS = (30, 1500)  # how long before the history the older SKUs launched
INTERMITTENT_SHARE = 0.15


@dataclass(frozen=True)
class SupplierSpec:
    code: str
    name: str
    lead_time_days: int
    deposit_share: float
    payment_days: int
    capacity_headroom: tuple[float, float]  # capacity ÷ average monthly units of its SKUs


SUPPLIER_SPECS = (
    SupplierSpec("SUP-01", "Northwind Wax Co.", 45, 0.30, 30, (1.05, 1.15)),  # too small for its Q4 peak
    SupplierSpec("SUP-02", "Lumen Glassworks", 90, 0.50, 60, (1.6, 2.2)),
    SupplierSpec("SUP-03", "Verde Botanicals", 30, 0.00, 14, (1.8, 2.5)),
    SupplierSpec("SUP-04", "Atelier Savon", 60, 0.20, 45, (1.5, 2.0)),
    SupplierSpec("SUP-05", "Pacific Pack & Gift", 120, 0.40, 30, (1.8, 2.4)),
    SupplierSpec("SUP-06", "Hartwell Home Goods", 60, 0.25, 30, (1.6, 2.2)),
)

SCENTS = (
    "Amber", "Bergamot", "Black fig", "Cedar", "Chai", "Cotton", "Fig leaf", "Grapefruit", "Honey", "Jasmine",
    "Lavender", "Lemongrass", "Neroli", "Oud", "Pine", "Rose", "Sandalwood", "Sea salt", "Smoked oak", "Tobacco",
    "Tonka", "Vanilla", "Vetiver", "White tea",
)


@dataclass(frozen=True)
class FamilySpec:
    name: str
    prefix: str
    sku_share: float
    cost_range: tuple[float, float]
    seasonality: float  # amplitude of demand.SEASON_PROFILE for this family
    order_multiples: tuple[int, ...]
    suppliers: tuple[int, ...]  # indices into SUPPLIER_SPECS
    supplier_odds: tuple[float, ...]
    descriptors: tuple[str, ...]  # first words of a product name
    formats: tuple[str, ...]  # what the product is


# In prefix order, so that SKU index order is also SKU code order.
FAMILIES = (
    FamilySpec("Accessories", "ACC", 0.10, (1.5, 6.0), 0.35, (10, 12, 24), (5, 1), (0.7, 0.3),
               ("Brass", "Matte black", "Oak", "Ceramic", "Marble", "Linen", "Smoked glass", "Copper"),
               ("wick trimmer", "candle snuffer", "match jar", "soap dish", "tray", "diffuser reed pack")),
    FamilySpec("Body Care", "BOD", 0.20, (2.0, 7.0), 0.25, (12, 24, 50), (2,), (1.0,), SCENTS,
               ("hand cream 75 ml", "body lotion 250 ml", "body oil 100 ml", "body scrub 200 g", "lip balm 15 ml")),
    FamilySpec("Candles", "CAN", 0.30, (3.0, 9.0), 1.0, (12, 24, 50), (0, 5), (0.8, 0.2), SCENTS,
               ("candle 250 g", "candle 180 g", "candle 450 g", "travel tin 90 g", "three-wick candle 600 g")),
    FamilySpec("Diffusers", "DIF", 0.15, (5.0, 14.0), 0.5, (12, 24, 50), (1,), (1.0,), SCENTS,
               ("reed diffuser 100 ml", "reed diffuser 200 ml", "diffuser refill 200 ml", "room spray 100 ml")),
    FamilySpec("Gift Sets", "GFT", 0.10, (8.0, 20.0), 1.6, (10, 50, 100), (4,), (1.0,), SCENTS,
               ("gift set", "discovery box", "candle & diffuser duo", "hand care trio", "advent calendar")),
    FamilySpec("Soaps", "SOA", 0.15, (1.0, 3.0), 0.2, (50, 100), (3, 2), (0.7, 0.3), SCENTS,
               ("bar soap 120 g", "liquid soap 300 ml", "soap refill 1 l", "guest soaps 6 x 20 g")),
)
PRICE_MARKUP = (2.2, 4.0)  # list price ÷ landed cost
PRICE_ENDING = 0.90  # list prices are x.90
MOQ_MONTHS = (1.0, 3.0)  # a MOQ is one to three months of a SKU's demand...
MOQ_BOUNDS = (50, 1000)  # ...within these bounds

@dataclass(frozen=True)
class Catalogue:
    """One entry per SKU, in SKU code order."""

    sku: np.ndarray
    name: np.ndarray
    family: np.ndarray
    supplier: np.ndarray
    unit_cost: np.ndarray
    unit_price: np.ndarray
    moq: np.ndarray
    order_multiple: np.ndarray
    status: np.ndarray
    launch_day: np.ndarray
    end_day: np.ndarray  # last selling day; NO_END while it keeps selling
    recent_launch: np.ndarray  # launched in the last NEW_WINDOW_MONTHS
    intermittent: np.ndarray
    base_units: np.ndarray  # mature monthly units (all channels) at the end of the history
    lump_size: np.ndarray  # slow movers: mean extra units per sale month
    channel_share: np.ndarray  # (S, C), zero where the SKU is not sold
    in_eu: np.ndarray  # also stocked in WH-EU

    @property
    def size(self) -> int:
        return len(self.sku)

    @property
    def lead_time_days(self) -> np.ndarray:
        return np.array([s.lead_time_days for s in SUPPLIER_SPECS])[self.supplier]


def _family_sizes(skus: int) -> np.ndarray:
    """SKUs per family from the shares, largest remainders first so the sizes add up to `skus`."""
    raw = np.array([f.sku_share for f in FAMILIES]) * skus
    sizes = np.floor(raw).astype(np.int64)
    short = skus - sizes.sum()
    sizes[np.argsort(-(raw - sizes), kind="stable")[:short]] += 1
    return sizes


def _product_names(family: np.ndarray, number: np.ndarray) -> list[str]:
    """Descriptor x format, e.g. 'Chai candle 250 g'; big catalogues cycle through numbered editions."""
    names = []
    for f, k in zip(family.tolist(), number.tolist()):
        spec = FAMILIES[f]
        n_desc, n_fmt = len(spec.descriptors), len(spec.formats)
        name = f"{spec.descriptors[k % n_desc]} {spec.formats[(k // n_desc) % n_fmt]}"
        edition = k // (n_desc * n_fmt)
        names.append(name if edition == 0 else f"{name} No. {edition + 1}")
    return names


def draw_catalogue(rng: np.random.Generator, cal: Calendar, skus: int) -> Catalogue:
    sizes = _family_sizes(skus)
    family = np.repeat(np.arange(len(FAMILIES)), sizes)
    number = np.arange(skus) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    width = max(4, len(str(int(sizes.max()))))
    codes = [f"{FAMILIES[f].prefix}-{k + 1:0{width}d}" for f, k in zip(family.tolist(), number.tolist())]

    cost_low = np.array([f.cost_range[0] for f in FAMILIES])[family]
    cost_high = np.array([f.cost_range[1] for f in FAMILIES])[family]
    unit_cost = np.round(rng.uniform(cost_low, cost_high), 2)
    unit_price = _list_prices(rng, unit_cost)
    supplier, multiple = _supplier_and_multiple(rng, family)

    launch_day, end_day, status, recent, intermittent = _life_cycles(rng, cal, skus)
    lump_rate = rng.uniform(*INTERMITTENT_RATE, skus)
    lump_size = np.where(intermittent, rng.uniform(*INTERMITTENT_LUMP, skus), 0.0)
    regular_units = np.minimum(rng.lognormal(np.log(BASE_UNITS_MEDIAN), BASE_UNITS_SIGMA, skus), BASE_UNITS_MAX)
    base_units = np.where(intermittent, lump_rate * (1 + lump_size), regular_units)

    moq_target = np.clip(base_units * rng.uniform(*MOQ_MONTHS, skus), *MOQ_BOUNDS)
    moq = np.ceil(moq_target / multiple).astype(np.int64) * multiple

    return Catalogue(
        sku=np.array(codes), name=np.array(_product_names(family, number)), family=family, supplier=supplier,
        unit_cost=unit_cost, unit_price=unit_price, moq=moq, order_multiple=multiple, status=status,
        launch_day=launch_day, end_day=end_day, recent_launch=recent, intermittent=intermittent,
        base_units=base_units, lump_size=lump_size, channel_share=_channel_shares(rng, skus),
        in_eu=rng.random(skus) < EU_STOCKED_SHARE,
    )


def _list_prices(rng: np.random.Generator, unit_cost: np.ndarray) -> np.ndarray:
    """A x.90 price point near a random markup, kept inside the markup range (costs of 1 or more
    leave at least one x.90 point in it)."""
    low = np.ceil(PRICE_MARKUP[0] * unit_cost - PRICE_ENDING) + PRICE_ENDING
    high = np.floor(PRICE_MARKUP[1] * unit_cost - PRICE_ENDING) + PRICE_ENDING
    wanted = np.round(unit_cost * rng.uniform(*PRICE_MARKUP, len(unit_cost)) - PRICE_ENDING) + PRICE_ENDING
    return np.round(np.clip(wanted, low, high), 2)


def _supplier_and_multiple(rng: np.random.Generator, family: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each SKU's supplier and order multiple, drawn from its family's options."""
    supplier = np.empty(len(family), dtype=np.int64)
    multiple = np.empty(len(family), dtype=np.int64)
    for f, spec in enumerate(FAMILIES):
        members = np.flatnonzero(family == f)
        supplier[members] = rng.choice(spec.suppliers, size=len(members), p=spec.supplier_odds)
        multiple[members] = rng.choice(spec.order_multiples, size=len(members))
    return supplier, multiple


def _channel_shares(rng: np.random.Generator, skus: int) -> np.ndarray:
    """Each SKU sells in two or three channels, with its own mix around the brand's."""
    sold = np.ones((skus, len(CHANNELS)), dtype=bool)
    two = rng.random(skus) >= THREE_CHANNEL_SHARE
    dropped = rng.choice(len(CHANNELS), size=skus, p=DROPPED_CHANNEL_ODDS)
    sold[np.flatnonzero(two), dropped[two]] = False
    share = rng.gamma(CHANNEL_MIX * CHANNEL_MIX_CONCENTRATION, size=(skus, len(CHANNELS))) * sold
    return share / share.sum(axis=1, keepdims=True)


def _random_day_in(rng: np.random.Generator, cal: Calendar, month: np.ndarray) -> np.ndarray:
    return cal.month_start[month] + rng.integers(0, cal.month_days[month])


def _life_cycles(rng: np.random.Generator, cal: Calendar, skus: int) -> tuple[np.ndarray, ...]:
    """Launch and end days, status, and which SKUs are recent launches or slow movers.

    Roles do not overlap, so each situation (new, discontinued with leftover stock, phasing out)
    shows up cleanly in the pipeline's exceptions.
    """
    m = cal.months
    order = rng.permutation(skus)
    counts = [max(1, round(NEW_SHARE * skus)), max(1, round(DISCONTINUED_SHARE * skus)),
              max(PHASE_OUT_MIN, round(PHASE_OUT_SHARE * skus))]
    new, discontinued, phase_out, rest = np.split(order, np.cumsum(counts))

    launch_day = cal.month_start[0] - rng.integers(*PRE_HISTORY_AGE_DAYS, skus)
    in_history = rest[rng.random(len(rest)) < HISTORY_LAUNCH_SHARE]
    launch_day[in_history] = _random_day_in(rng, cal, rng.integers(1, m - NEW_WINDOW_MONTHS, len(in_history)))
    launch_day[new] = _random_day_in(rng, cal, rng.integers(m - NEW_WINDOW_MONTHS, m, len(new)))

    end_day = np.full(skus, NO_END, dtype=np.int64)
    end_month = rng.integers(max(1, m - DISCONTINUED_WINDOW_MONTHS), m - 1, len(discontinued))
    end_day[discontinued] = _random_day_in(rng, cal, end_month)
    end_day[phase_out] = cal.cycle_day + rng.integers(*PHASE_OUT_END_DAYS, len(phase_out))

    status = np.full(skus, "active", dtype=object)
    status[discontinued], status[phase_out] = "discontinued", "phase_out"
    recent = np.zeros(skus, dtype=bool)
    recent[new] = True
    intermittent = np.zeros(skus, dtype=bool)
    intermittent[rest[: round(INTERMITTENT_SHARE * skus)]] = True
    return launch_day, end_day, status, recent, intermittent


def products_frame(cat: Catalogue) -> pl.DataFrame:
    return pl.DataFrame({
        "sku": cat.sku,
        "name": cat.name,
        "family": np.array([f.name for f in FAMILIES])[cat.family],
        "unit_cost": cat.unit_cost,
        "unit_price": cat.unit_price,
        "supplier": np.array([s.code for s in SUPPLIER_SPECS])[cat.supplier],
        "lead_time_days": cat.lead_time_days.astype(np.int64),
        "moq": cat.moq.astype(np.int64),
        "order_multiple": cat.order_multiple.astype(np.int64),
        "status": cat.status.astype(str),
        "launch_date": as_dates(cat.launch_day),
        "discontinue_date": as_dates(cat.end_day),
    })
