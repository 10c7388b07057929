"""Deterministic demo data: a small home-fragrance brand's landing files (SPEC §3).

The demo has to exercise every part of the pipeline, so the data is built to contain what a
planner meets in real exports: a few SKUs carrying most of the revenue (ABC), Q4-peaked
seasonality, slow movers, promotions that really lift sales, launches and discontinuations,
stockouts that censor demand, SKUs near stockout and in excess at the cycle, late purchase
orders, a supplier too small for its Q4 peak, a budget a little above trend, and overrides for this
cycle and the twelve before it (informed SKU quantities that help, optimistic family percentages that hurt).

Everything is drawn from numpy generators spawned from one seed, one per part of the data, so
the same arguments give byte-identical files. Days are handled as integers (days since
1970-01-01) and turned into dates only when the frames are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.ingest.contract import (
    APPROVALS,
    BUDGET,
    CASH_POSITION,
    DECISIONS,
    DATASETS,
    EVENTS,
    INVENTORY,
    MISSING_MONTHS,
    OPEX,
    OVERRIDES,
    PAYABLES,
    PAYMENT_TERMS,
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

# Channels, their list-price factor and the gamma shape of their demand noise (lower = lumpier:
# wholesale buys in cartons, DTC orders are many and small).
CHANNELS = ("DTC", "Wholesale", "Marketplace")
WHOLESALE, MARKETPLACE = CHANNELS.index("Wholesale"), CHANNELS.index("Marketplace")
CHANNEL_MIX = np.array([0.45, 0.35, 0.20])
CHANNEL_MIX_CONCENTRATION = 6.0  # Dirichlet concentration of each SKU's channel mix around CHANNEL_MIX
MARKETPLACE_PRICE_FACTOR = 0.85  # the marketplace's commission
WHOLESALE_PRICE_FACTOR = (0.50, 0.60)  # each account negotiates its own discount off list price
NOISE_SHAPE = np.array([12.0, 3.0, 8.0])
THREE_CHANNEL_SHARE = 0.5  # the others sell in two channels; DTC is rarely the one dropped
DROPPED_CHANNEL_ODDS = np.array([0.15, 0.45, 0.40])

LOCATIONS = ("WH-MAIN", "WH-EU")
EU_STOCKED_SHARE = 1 / 3
EU_STOCK_SHARE = (0.25, 0.45)  # share of an EU-stocked SKU's units held in WH-EU

# Demand shape.
BASE_UNITS_MEDIAN, BASE_UNITS_SIGMA, BASE_UNITS_MAX = 40.0, 1.3, 4000.0  # log-normal monthly units
TREND_MEAN, TREND_SD = 0.10, 0.12  # yearly growth rate across SKUs
SEASON_PROFILE = np.array([-0.30, -0.25, -0.10, -0.05, 0.0, -0.10, -0.15, -0.10, 0.0, 0.15, 0.40, 0.50])  # Jan..Dec
SEASON_FLOOR = 0.2
LAUNCH_RAMP = np.array([0.5, 0.75, 0.9])  # share of the mature level in the first months after launch
RUNDOWN_MONTHS, RUNDOWN_FLOOR = 6, 0.5  # demand fades to half over the last months before discontinuation
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

# Stockouts and the stock position.
STOCKOUT_SHARE, STOCKOUT_MONTHS = 0.10, (1, 4)  # SKUs with 1-3 stockout months
STOCKOUT_FILL = (0.0, 0.4)  # share of the month's demand sold before the shelf went empty
COVER_MONTHS = (0.8, 2.2)  # each SKU's usual months of cover...
COVER_JITTER = (0.6, 1.4)  # ...varying month to month...
COVER_BOUNDS = (0.5, 3.0)  # ...within these bounds
SLOW_MOVER_COVER = (4.0, 12.0)  # slow movers sit on a MOQ batch for many months
LEFTOVER_COVER, LEFTOVER_MIN = (0.5, 3.0), 5  # stock left on discontinued SKUs
NEAR_STOCKOUT_SHARE, NEAR_STOCKOUT_COVER, NEAR_STOCKOUT_MIN_UNITS = 0.06, (0.05, 0.2), 10
EXCESS_SHARE, EXCESS_COVER = 0.06, (9.0, 15.0)
COVER_LOOKBACK = 3  # months of sales that define cover in the last snapshot

# Promotions and other events.
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

# Order lines.
MAX_LINES_PER_CELL, LINE_SPLIT_HALF = 4, 10.0  # a SKU-channel-month of 10 units averages 2.5 lines
WHOLESALE_ACCOUNTS, WHOLESALE_ACCOUNTS_BOUNDS, ACCOUNT_SIZE_SKEW = 36, (12, 400), 0.9
CONSUMERS_PER_LINE, CONSUMERS_MIN = 0.5, 500  # repeat buyers: half as many consumers as lines

# Purchasing.
PO_HISTORY_MONTHS, PO_MAX_LINES = 12, 40
ORDER_COVER = (0.9, 1.3)  # an order covers its interval's demand, give or take
MAX_ORDER_INTERVAL = 12
STOP_ORDERING_DAYS = 90  # no orders in the last three months of a SKU's life
EXPECTED_DATE_NOISE = (-5, 6)
PO_COST_FACTOR = (0.95, 1.03)
CANCELLED_SHARE = 0.02
LATE_WINDOW_DAYS, LATE_SHARE = 45, 0.3  # of the receipts due in the last 45 days, 30 % have not (fully) arrived
PARTIAL_SHARE, PARTIAL_RECEIVED = 0.5, (0.3, 0.8)  # half the late lines got part of their units
CAPACITY_STEP, CAPACITY_MIN = 100, 500

# Plans for the cycle.
OVERRIDE_ROWS, OVERRIDE_FAMILY_ROWS, OVERRIDE_SKU_POOL, OVERRIDE_MONTHS = (5, 10), (2, 4), 30, 12
OWNERS = ("maria.k", "tom.b", "aisha.r", "li.w")
SKU_OVERRIDE_REASONS = (  # (reason, factor range on the SKU's recent monthly level)
    ("Retailer confirmed listing", (1.3, 1.8)),
    ("Influencer campaign booked", (1.5, 2.2)),
    ("Large wholesale pre-order", (1.6, 2.5)),
    ("Supplier allocation cut", (0.5, 0.8)),
)
FAMILY_OVERRIDE_REASONS = (  # (reason, percent range)
    ("Price increase announced", (-0.08, -0.03)),
    ("Holiday catalogue feature", (0.10, 0.25)),
    ("Competitor out of stock", (0.05, 0.15)),
    ("Lost shelf space at a key account", (-0.20, -0.10)),
)
# Overrides of the past cycles, so the consensus can be backtested and the FVA of overrides tells the usual
# story (Gilliland): SKU quantities backed by real information move the number most of the way to what
# then sold, family percentages from sales-team confidence are mostly optimistic and make it worse.
PAST_OVERRIDE_CYCLES, PAST_OVERRIDE_MONTHS = 12, 6  # each cycle overrides its own month and the five after it
PAST_OVERRIDE_SURPRISE = 0.25  # a planner knows something about SKU-months whose sales were this far off the level
PAST_OVERRIDE_PULL, PAST_OVERRIDE_NOISE = (0.5, 0.9), 0.10  # share of the gap to sales closed; log-normal noise
PAST_RAISE_REASONS = tuple(r for r, factor in SKU_OVERRIDE_REASONS if factor[0] > 1)
PAST_CUT_REASONS = ("Key account postponed its order", "Retailer reduced its range")
STOCKOUT_REASON = "Supplier allocation cut"  # what a planner knew ahead of a month the shelf ran empty
HOLIDAY_MONTHS = (9, 10, 11)  # October to December, 0 = January
PAST_FAMILY_OVERRIDE_REASONS = (  # (reason, percent range, odds, holiday months only)
    ("Sales team confidence", (0.05, 0.20), 0.45, False),
    ("Holiday push", (0.05, 0.20), 0.25, True),
    ("Holiday catalogue feature", (0.10, 0.20), 0.10, True),
    ("Competitor out of stock", (0.05, 0.15), 0.10, False),
    ("Price increase announced", (-0.08, -0.03), 0.05, False),
    ("Lost shelf space at a key account", (-0.15, -0.05), 0.05, False),
)
BUDGET_MONTHS, BUDGET_AMBITION, BUDGET_GROWTH_BOUNDS, BUDGET_STEP = 12, (1.05, 1.10), (-0.10, 0.30), 100
# The brand's cash, in months of last year's average net revenue: the cash is at its low before the holiday peak,
# the Q4 stock paid for, and the bank grants a small overdraft. Opex takes a little over half of net revenue and the
# gross margin at net prices is about 60 %: the brand about breaks even, so a cautious year that holds its spend back
# stays within the overdraft, while the packaged ambitious scenario, which pays for its launch, a bigger team and
# new retail accounts on 90 days before its sales come in, needs funding beyond it (docs/supply-and-finance.md).
COLLECTION_DAYS = {"DTC": (0,), "Marketplace": (14, 21), "Wholesale": (45, 60)}  # choices per channel
OPENING_CASH_MONTHS, CREDIT_LINE_MONTHS = (0.20, 0.30), 0.20
OPEX_SHARES = {"Payroll": 0.26, "Rent": 0.06, "Marketing": 0.12, "Logistics": 0.08}  # of the average month's revenue
OPEX_MONTHS_BEFORE, OPEX_MONTHS = 1, 25  # from the month before the cycle: the previous cycle's horizon too
VAT_SHARE, CASH_STEP = 0.05, 100  # quarterly VAT settlement (share of the quarter's revenue); amounts rounded

NO_END = int(np.datetime64("9999-12-31", "D").astype(np.int64))  # end day of SKUs still selling


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
    seasonality: float  # amplitude of SEASON_PROFILE for this family
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
class Calendar:
    """The history months, as integer days since 1970-01-01."""

    cycle_day: int
    cycle_month: int  # months since 1970-01
    month_start: np.ndarray  # (M,)
    month_days: np.ndarray  # (M,)
    month_of_year: np.ndarray  # (M,), 0 = January

    @property
    def months(self) -> int:
        return len(self.month_start)

    @property
    def month_end(self) -> np.ndarray:
        return self.month_start + self.month_days - 1

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """History month index of each day (negative before the history, >= M from the cycle on)."""
        months = np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return months - (self.cycle_month - self.months)


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


@dataclass(frozen=True)
class Demand:
    reference: np.ndarray  # (S, M) expected full-month units without noise or promotions; 0 when not selling
    units: np.ndarray  # (S, C, M) units sold
    first_day: np.ndarray  # (S, M) first and last day of the month the SKU could sell (first > last: none)
    last_day: np.ndarray
    stockout: np.ndarray  # (S, M) the shelf ran empty that month


def generate_demo(out_dir: Path, *, skus: int = 150, months: int = 48, seed: int = 7,
                  cycle: date = DEMO_CYCLE) -> dict[str, int]:
    """Write every input data set as out_dir/<dataset>/<dataset>.csv; return rows written per data set."""
    _check_arguments(skus, months, cycle)
    rngs = dict(zip(RANDOM_STREAMS, np.random.default_rng(seed).spawn(len(RANDOM_STREAMS))))
    cal = _calendar(cycle, months)
    cat = _catalogue(rngs["catalogue"], cal, skus)
    history_events = _history_promotions(rngs["events"], cal, cat) + _launch_events(rngs["events"], cal, cat)
    effects = _event_effects(rngs["events"], cal, cat, history_events)
    future_events = _future_events(rngs["events"], cal, cat)
    demand = _simulate_demand(rngs["demand"], cal, cat, effects)
    sales, family_revenue = _order_lines(rngs["sales"], cal, cat, demand, effects)
    frames = {
        PRODUCTS.name: _products_frame(cat),
        SALES.name: sales,
        # The demo's exports have no gaps: a header-only file shows the data set's shape.
        MISSING_MONTHS.name: pl.DataFrame(schema={name: pl.String for name in MISSING_MONTHS.column_names}),
        INVENTORY.name: _inventory(rngs["inventory"], cal, cat, demand),
        PURCHASE_ORDERS.name: _purchase_orders(rngs["purchasing"], cal, cat, demand),
        SUPPLIERS.name: _suppliers(rngs["suppliers"], cat, demand),
        EVENTS.name: _events_frame(cat, history_events + future_events),
        OVERRIDES.name: pl.concat([_past_overrides(rngs["past_plans"], cal, cat, demand),
                                   _overrides(rngs["plans"], cal, cat, demand)]),
        BUDGET.name: _budget(rngs["plans"], cal, family_revenue),
        **_cash(rngs["cash"], cal, family_revenue),
        DECISIONS.name: _decisions(cycle, _products_frame(cat)),
        APPROVALS.name: _approvals(cycle),
    }
    return {dataset.name: _write(Path(out_dir), dataset, frames[dataset.name]) for dataset in DATASETS}


def _decisions(cycle: date, products: pl.DataFrame) -> pl.DataFrame:
    """The log of the two meetings before the cycle, so the demo's pack has decisions to follow up: done,
    dropped, in progress and one overdue. No randomness: the same SKUs and families whatever the seed."""
    last, before = add_months(cycle, -1), add_months(cycle, -2)
    first_sku, first_family = products["sku"][0], products["family"][0]
    other_family = next((f for f in products["family"] if f != first_family), first_family)
    rows = [
        (f"D-{before:%Y-%m}-01", before, "Cut the next order of slow movers in the family by a third", "ops.lead",
         add_months(before, 1) - timedelta(days=1), "done", None, first_family, "excess"),
        (f"D-{last:%Y-%m}-01", last, "Expedite the open purchase order by air freight", "buyer.sam",
         last + timedelta(days=14), "open", first_sku, None, "stockout"),
        (f"D-{last:%Y-%m}-02", last, "Ask the supplier for a second production line from next quarter", "coo",
         add_months(cycle, 1) + timedelta(days=14), "in_progress", None, other_family, "capacity_overload"),
        (f"D-{last:%Y-%m}-03", last, "Run the spring promotion two weeks earlier", "marketing.li",
         None, "dropped", None, other_family, None),
        (f"D-{last:%Y-%m}-04", last, "Review list prices with finance before the budget", "cfo",
         last + timedelta(days=20), "done", None, None, None),
    ]
    frame = pl.DataFrame(rows, schema=["decision_id", "cycle", "decision", "owner", "due_date", "status", "sku",
                                       "family", "exception_type"], orient="row")
    return frame.with_columns(pl.col("cycle", "due_date").cast(pl.String))


def _approvals(cycle: date) -> pl.DataFrame:
    """The previous meeting approved its plan in the central scenario; the cycle's own meeting has not met yet,
    so its plan stays a draft until `sop approve`."""
    last = add_months(cycle, -1)
    return pl.DataFrame({"cycle": [last.isoformat()], "scenario": ["central"], "approved_by": ["ceo.anna"],
                         "approved_on": [(last + timedelta(days=11)).isoformat()],
                         "note": ["Central plan approved; expedite the late purchase order"]})


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


# --- calendar -------------------------------------------------------------------------------------


def _month_bounds(month_numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First day and length of each month (months since 1970-01), as integer days."""
    months = np.asarray(month_numbers, dtype=np.int64).astype("datetime64[M]")
    start = months.astype("datetime64[D]").astype(np.int64)
    following = (months + 1).astype("datetime64[D]").astype(np.int64)
    return start, following - start


def _calendar(cycle: date, months: int) -> Calendar:
    cycle_month = int(np.datetime64(cycle, "M").astype(np.int64))
    numbers = np.arange(cycle_month - months, cycle_month)
    start, days = _month_bounds(numbers)
    return Calendar(int(np.datetime64(cycle, "D").astype(np.int64)), cycle_month, start, days, numbers % 12)


def _dates(days: np.ndarray) -> np.ndarray:
    """Integer days to dates; NO_END becomes an empty cell."""
    days = np.asarray(days, dtype=np.int64)
    return np.where(days == NO_END, np.datetime64("NaT"), days.astype("datetime64[D]"))


# --- catalogue ------------------------------------------------------------------------------------


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


def _catalogue(rng: np.random.Generator, cal: Calendar, skus: int) -> Catalogue:
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


def _products_frame(cat: Catalogue) -> pl.DataFrame:
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
        "launch_date": _dates(cat.launch_day),
        "discontinue_date": _dates(cat.end_day),
    })


# --- events ---------------------------------------------------------------------------------------


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


def _history_promotions(rng: np.random.Generator, cal: Calendar, cat: Catalogue) -> list[Event]:
    """About 8-12 promotions per year, more often in Q4 and around gifting days."""
    count = round(int(rng.integers(PROMOS_PER_YEAR[0], PROMOS_PER_YEAR[1] + 1)) * cal.months / 12)
    weights = PROMO_MONTH_WEIGHTS[cal.month_of_year]
    months = np.sort(rng.choice(cal.months, size=count, p=weights / weights.sum()))
    return [
        _promotion(rng, cat, int(cal.month_start[m]), int(cal.month_days[m]), int(cal.month_of_year[m]))
        for m in months.tolist()
    ]


def _launch_events(rng: np.random.Generator, cal: Calendar, cat: Catalogue) -> list[Event]:
    """One launch event per SKU launched during the history, with the push it got in its first weeks."""
    launched = np.flatnonzero(cat.launch_day >= cal.month_start[0])
    uplifts = np.round(rng.uniform(*LAUNCH_UPLIFT, len(launched)), 2)
    return [
        Event("launch", int(cat.launch_day[s]), int(cat.launch_day[s]) + LAUNCH_EVENT_DAYS - 1, float(u),
              f"Launch: {cat.name[s]}", sku=int(s))
        for s, u in zip(launched.tolist(), uplifts.tolist())
    ]


def _future_events(rng: np.random.Generator, cal: Calendar, cat: Catalogue) -> list[Event]:
    """Promotions planned for the next months and one wholesale account about to open."""
    count = int(rng.integers(FUTURE_PROMOS[0], FUTURE_PROMOS[1] + 1))
    ahead = rng.choice(FUTURE_PROMO_MONTHS, size=count)
    starts, days = _month_bounds(cal.cycle_month + ahead)
    events = [
        _promotion(rng, cat, int(s), int(d), int((cal.cycle_month + a) % 12))
        for s, d, a in zip(starts.tolist(), days.tolist(), ahead.tolist())
    ]
    opening, closing = _month_bounds(cal.cycle_month + np.array([NEW_ACCOUNT_START, NEW_ACCOUNT_START + NEW_ACCOUNT_MONTHS]))[0]
    wholesale = np.bincount(cat.family, weights=cat.base_units * cat.channel_share[:, WHOLESALE], minlength=len(FAMILIES))
    family = int(np.argmax(wholesale))
    events.append(Event(
        "new_account", int(opening), int(closing) - 1, round(float(rng.uniform(*NEW_ACCOUNT_UPLIFT)), 2),
        f"New wholesale account: Harbor & Home, 120 doors ({FAMILIES[family].name})", family=family, channel=WHOLESALE,
    ))
    return events


def _event_effects(rng: np.random.Generator, cal: Calendar, cat: Catalogue, events: list[Event]) -> EventEffects:
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


def _events_frame(cat: Catalogue, events: list[Event]) -> pl.DataFrame:
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
        "start_date": _dates([e.start_day for e in events]),
        "end_date": _dates([e.end_day for e in events]),
        "uplift_pct": [e.uplift for e in events],
        "description": [e.description for e in events],
    })


# --- demand and sales -----------------------------------------------------------------------------


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


def _simulate_demand(rng: np.random.Generator, cal: Calendar, cat: Catalogue, effects: EventEffects) -> Demand:
    """Units sold per SKU x channel x month: level x trend x season x life cycle x events, with noise,
    slow movers selling in occasional lumps, and stockout months cut short."""
    first, last = _selling_window(cal, cat)
    live_share = np.clip(last - first + 1, 0, None) / cal.month_days[None, :]
    growth = rng.normal(TREND_MEAN, TREND_SD, cat.size)
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


def _order_lines(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand,
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


# --- stock and supply -----------------------------------------------------------------------------


def _inventory(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """Month-end stock per location for every SKU launched by then (discontinued ones keep their leftover)."""
    on_hand = _stock_on_hand(rng, cal, cat, demand)
    launched = cal.month_end[None, :] >= cat.launch_day[:, None]
    eu_share = np.where(cat.in_eu, rng.uniform(*EU_STOCK_SHARE, cat.size), 0.0)
    eu = np.round(on_hand * eu_share[:, None]).astype(np.int64)
    s, m = np.nonzero(launched)
    eu_rows = cat.in_eu[s]
    location = np.concatenate([np.zeros(len(s), dtype=np.int64), np.ones(int(eu_rows.sum()), dtype=np.int64)])
    s, m = np.concatenate([s, s[eu_rows]]), np.concatenate([m, m[eu_rows]])
    units = np.where(location == 0, on_hand[s, m] - eu[s, m], eu[s, m])
    order = np.lexsort((location, s, m))
    return pl.DataFrame({
        "snapshot_date": cal.month_end[m[order]].astype("datetime64[D]"),
        "sku": pl.Series(cat.sku).gather(s[order]),
        "location": pl.Series(LOCATIONS).gather(location[order]),
        "on_hand": units[order],
    })


def _stock_on_hand(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> np.ndarray:
    """Total month-end units per SKU: a few months of cover, zero in stockout months, a leftover after
    discontinuation, and at the last month-end some SKUs nearly out and some in clear excess."""
    usual = rng.uniform(*COVER_MONTHS, cat.size)
    slow = rng.uniform(*SLOW_MOVER_COVER, cat.size)
    cover = np.clip(usual[:, None] * rng.uniform(*COVER_JITTER, demand.reference.shape), *COVER_BOUNDS)
    cover = np.where(cat.intermittent[:, None], slow[:, None], cover)
    on_hand = np.maximum(np.round(cover * demand.reference), 1).astype(np.int64)

    last_level = np.take_along_axis(demand.reference, np.clip(cal.month_index(cat.end_day), 0, cal.months - 1)[:, None], 1)[:, 0]
    leftover = np.maximum(np.round(rng.uniform(*LEFTOVER_COVER, cat.size) * last_level), LEFTOVER_MIN).astype(np.int64)
    ended = cal.month_end[None, :] >= cat.end_day[:, None]
    on_hand = np.where(ended, leftover[:, None], on_hand)
    on_hand[demand.stockout] = 0
    _set_last_cover(rng, cal, cat, demand, on_hand)
    return on_hand


def _set_last_cover(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand,
                    on_hand: np.ndarray) -> None:
    """Put some established SKUs under 0.3 and some over 8 months of cover (on recent sales) at the
    last month-end, so the supply review has both risks to report."""
    recent_sales = demand.units[:, :, -COVER_LOOKBACK:].sum(axis=(1, 2)) / COVER_LOOKBACK
    established = cat.launch_day < cal.month_start[cal.months - COVER_LOOKBACK]
    candidates = (cat.status == "active") & ~cat.intermittent & established & ~demand.stockout[:, -1]
    near = np.flatnonzero(candidates & (recent_sales >= NEAR_STOCKOUT_MIN_UNITS))
    near = rng.choice(near, size=min(len(near), max(1, round(NEAR_STOCKOUT_SHARE * cat.size))), replace=False)
    on_hand[near, -1] = np.ceil(rng.uniform(*NEAR_STOCKOUT_COVER, len(near)) * recent_sales[near])
    candidates[near] = False
    excess = np.flatnonzero(candidates & (recent_sales > 0))
    excess = rng.choice(excess, size=min(len(excess), max(1, round(EXCESS_SHARE * cat.size))), replace=False)
    on_hand[excess, -1] = np.ceil(rng.uniform(*EXCESS_COVER, len(excess)) * recent_sales[excess])


def _purchase_orders(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """The last year's purchase orders: one PO per supplier and month (split above PO_MAX_LINES lines),
    each SKU ordered every few months in MOQ-rounded batches; received, open, late or cancelled at the cycle."""
    first = max(0, cal.months - PO_HISTORY_MONTHS)
    window = demand.reference[:, first:]
    selling = (window > 0).sum(axis=1)
    level = window.sum(axis=1) / np.maximum(selling, 1)
    interval = np.clip(np.ceil(cat.moq / np.maximum(level, 1e-3)), 1, MAX_ORDER_INTERVAL).astype(np.int64)
    phase = rng.integers(0, interval)
    months = np.arange(first, cal.months)
    s, j = np.nonzero((months[None, :] + phase[:, None]) % interval[:, None] == 0)
    m = months[j]
    supplier = cat.supplier[s]
    send_day = rng.integers(1, 29, size=(cal.months, len(SUPPLIER_SPECS)))
    order_day = cal.month_start[m] + send_day[m, supplier] - 1
    lead = cat.lead_time_days[s]
    keep = (order_day + lead >= cat.launch_day[s]) & (order_day <= cat.end_day[s] - STOP_ORDERING_DAYS)
    s, m, supplier, order_day, lead = s[keep], m[keep], supplier[keep], order_day[keep], lead[keep]

    multiple = cat.order_multiple[s]
    wanted = np.maximum(cat.moq[s], level[s] * interval[s] * rng.uniform(*ORDER_COVER, len(s)))
    quantity = (np.ceil(wanted / multiple) * multiple).astype(np.int64)
    expected = order_day + lead + rng.integers(*EXPECTED_DATE_NOISE, len(s))
    status, received = _po_status(rng, cal, expected, quantity, multiple)

    lines = pl.DataFrame({
        "month": m, "supplier": supplier, "s": s,
        "sku": pl.Series(cat.sku).gather(s),
        "order_date": order_day.astype("datetime64[D]"),
        "expected_date": expected.astype("datetime64[D]"),
        "quantity": quantity,
        "received_quantity": received,
        "status": pl.Series(["open", "partial", "received", "cancelled"]).gather(status),
        "unit_cost": np.round(cat.unit_cost[s] * rng.uniform(*PO_COST_FACTOR, len(s)), 2),
    }).sort("month", "supplier", "s")
    # Goods arrive on their expected date in the demo; the date lets past cycles see the PO as open.
    lines = lines.with_columns(
        pl.when(pl.col("received_quantity") > 0).then(pl.col("expected_date")).alias("received_date")
    )
    return _number_purchase_orders(lines)


def _po_status(rng: np.random.Generator, cal: Calendar, expected: np.ndarray, quantity: np.ndarray,
               multiple: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Status index (open, partial, received, cancelled) and received units of each PO line.

    Due before the cycle means received, except a share of the most recent ones that are late
    (nothing or part received); due later means open. A few lines of any age were cancelled.
    """
    open_, partial, received, cancelled = range(4)
    status = np.where(expected < cal.cycle_day, received, open_)
    status[rng.random(len(status)) < CANCELLED_SHARE] = cancelled
    recent = np.flatnonzero((status == received) & (expected >= cal.cycle_day - LATE_WINDOW_DAYS))
    late = rng.choice(recent, size=min(len(recent), max(1, round(LATE_SHARE * len(recent)))), replace=False)
    status[late] = open_
    split = late[(rng.random(len(late)) < PARTIAL_SHARE) & (quantity[late] > multiple[late])]
    status[split] = partial
    got = np.where(status == received, quantity, 0)
    share = rng.uniform(*PARTIAL_RECEIVED, len(split))
    got[split] = np.clip(np.floor(share * quantity[split] / multiple[split]) * multiple[split],
                         multiple[split], quantity[split] - multiple[split])
    return status, got


def _number_purchase_orders(lines: pl.DataFrame) -> pl.DataFrame:
    """po_id = PO-<year>-<sequence>, one per supplier, month and block of PO_MAX_LINES lines."""
    lines = lines.with_columns(block=pl.int_range(pl.len()).over("month", "supplier") // PO_MAX_LINES)
    keys = (
        lines.select("month", "supplier", "block", year=pl.col("order_date").dt.year())
        .unique(maintain_order=True)
        .with_columns(sequence=pl.int_range(1, pl.len() + 1).over("year"))
    )
    width = max(4, len(str(keys["sequence"].max())))
    keys = keys.with_columns(po_id=pl.format("PO-{}-{}", "year", pl.col("sequence").cast(pl.String).str.zfill(width)))
    return lines.join(keys, on=["month", "supplier", "block"], how="left").sort("po_id", "sku")


def _suppliers(rng: np.random.Generator, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """Capacity sized on each supplier's average monthly units of the last year; SUP-01's headroom is too
    small for its Q4 peak, so capacity overloads appear in the supply review."""
    monthly = demand.units[:, :, -PO_HISTORY_MONTHS:].sum(axis=(1, 2)) / PO_HISTORY_MONTHS
    load = np.bincount(cat.supplier, weights=monthly, minlength=len(SUPPLIER_SPECS))
    headroom = np.array([rng.uniform(*s.capacity_headroom) for s in SUPPLIER_SPECS])
    capacity = np.maximum(np.ceil(load * headroom / CAPACITY_STEP) * CAPACITY_STEP, CAPACITY_MIN)
    return pl.DataFrame({
        "supplier": [s.code for s in SUPPLIER_SPECS],
        "name": [s.name for s in SUPPLIER_SPECS],
        "monthly_capacity": capacity.astype(np.int64),
        "deposit_share": [s.deposit_share for s in SUPPLIER_SPECS],
        "payment_days": [s.payment_days for s in SUPPLIER_SPECS],
    })


# --- plans for the cycle --------------------------------------------------------------------------


def _overrides(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """A planner's overrides for this cycle: unit targets on strong SKUs, percentages on families."""
    recent_level = demand.reference[:, -COVER_LOOKBACK:].mean(axis=1)
    pool = np.flatnonzero((cat.status == "active") & ~cat.intermittent & (demand.reference[:, -1] > 0))
    pool = pool[np.argsort(-recent_level[pool], kind="stable")][:OVERRIDE_SKU_POOL]
    families = np.unique(cat.family)
    n_family = min(int(rng.integers(OVERRIDE_FAMILY_ROWS[0], OVERRIDE_FAMILY_ROWS[1] + 1)), len(families))
    n_sku = min(int(rng.integers(OVERRIDE_ROWS[0], OVERRIDE_ROWS[1] + 1)) - n_family, len(pool))

    rows = []
    for s in rng.choice(pool, size=n_sku, replace=False).tolist():
        reason, factor = SKU_OVERRIDE_REASONS[int(rng.integers(len(SKU_OVERRIDE_REASONS)))]
        units = max(10, int(round(recent_level[s] * rng.uniform(*factor) / 10)) * 10)
        rows.append((str(cat.sku[s]), None, units, None, reason))
    for f in rng.choice(families, size=n_family, replace=False).tolist():
        reason, percent = FAMILY_OVERRIDE_REASONS[int(rng.integers(len(FAMILY_OVERRIDE_REASONS)))]
        rows.append((None, FAMILIES[f].name, None, round(float(rng.uniform(*percent)), 2), reason))

    month = _month_bounds(cal.cycle_month + rng.integers(0, OVERRIDE_MONTHS, len(rows)))[0]
    owner = rng.choice(OWNERS, size=len(rows))
    return _overrides_frame(np.full(len(rows), cal.cycle_day), month, rows, owner)


def _past_overrides(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand) -> pl.DataFrame:
    """What planners overrode in each of the PAST_OVERRIDE_CYCLES cycles before this one, over that cycle's
    own months: SKU quantities where they knew of a listing, a pre-order or a cut (the simulated sales say
    which SKU-months those were), and family percentages that are mostly sales-team optimism."""
    sold = demand.units.sum(axis=1)
    cycles, months, rows = [], [], []
    for back in range(PAST_OVERRIDE_CYCLES, 0, -1):
        first = cal.months - back  # history month index of the past cycle
        n_total = int(rng.integers(OVERRIDE_ROWS[0], OVERRIDE_ROWS[1] + 1))
        n_family = int(rng.integers(OVERRIDE_FAMILY_ROWS[0], OVERRIDE_FAMILY_ROWS[1] + 1))
        sku_rows = _past_sku_overrides(rng, cal, cat, demand, sold, first, n_total - n_family)
        family_rows = _past_family_overrides(rng, cal, first, n_family)
        for month, row in sku_rows + family_rows:
            cycles.append(cal.cycle_month - back)
            months.append(month)
            rows.append(row)
    owner = rng.choice(OWNERS, size=len(rows))
    return _overrides_frame(_month_bounds(np.array(cycles))[0], _month_bounds(np.array(months))[0], rows, owner)


def _past_sku_overrides(rng: np.random.Generator, cal: Calendar, cat: Catalogue, demand: Demand, sold: np.ndarray,
                        first: int, count: int) -> list[tuple[int, tuple]]:
    """Up to `count` (month, row) unit overrides on the cycle's strong SKUs, in months that have sales by now:
    the SKU-months whose sales were far off their level, moved part of the way from the level to the sales."""
    level = demand.reference
    known = ~cat.intermittent & (cat.launch_day < cal.month_start[first]) & (level[:, first] > 0)
    pool = np.flatnonzero(known)
    pool = pool[np.argsort(-level[pool, first], kind="stable")][:OVERRIDE_SKU_POOL]
    window = np.arange(first, min(first + PAST_OVERRIDE_MONTHS, cal.months))
    s, m = (a.ravel() for a in np.meshgrid(pool, window, indexing="ij"))
    surprise = (sold[s, m] > 0) & (level[s, m] > 0)
    surprise &= np.abs(sold[s, m] / np.maximum(level[s, m], 1e-9) - 1) >= PAST_OVERRIDE_SURPRISE
    pick = rng.choice(np.flatnonzero(surprise), size=min(count, int(surprise.sum())), replace=False)
    s, m = s[pick], m[pick]
    pull = rng.uniform(*PAST_OVERRIDE_PULL, len(s))
    noise = rng.lognormal(0.0, PAST_OVERRIDE_NOISE, len(s))
    wanted = (level[s, m] + pull * (sold[s, m] - level[s, m])) * noise
    units = np.maximum(np.where(wanted >= 100, np.round(wanted, -1), np.round(wanted)), 1).astype(np.int64)
    cut_reason = rng.choice(PAST_CUT_REASONS, size=len(s))
    raise_reason = rng.choice(PAST_RAISE_REASONS, size=len(s))
    reason = np.where(demand.stockout[s, m], STOCKOUT_REASON,
                      np.where(sold[s, m] < level[s, m], cut_reason, raise_reason))
    return [
        (cal.cycle_month - cal.months + month, (str(cat.sku[sku]), None, q, None, str(r)))
        for sku, month, q, r in zip(s.tolist(), m.tolist(), units.tolist(), reason.tolist())
    ]


def _past_family_overrides(rng: np.random.Generator, cal: Calendar, first: int, count: int) -> list[tuple[int, tuple]]:
    """`count` (month, row) percentage overrides on distinct family-months of the cycle, drawn without
    looking at what sold: mostly optimistic, holiday reasons only in the holiday months."""
    family, ahead = np.divmod(rng.choice(len(FAMILIES) * PAST_OVERRIDE_MONTHS, size=count, replace=False),
                              PAST_OVERRIDE_MONTHS)
    month = cal.cycle_month - cal.months + first + ahead
    rows = []
    for f, mo in zip(family.tolist(), month.tolist()):
        holiday = mo % 12 in HOLIDAY_MONTHS
        odds = np.array([p if holiday or not only else 0.0 for _, _, p, only in PAST_FAMILY_OVERRIDE_REASONS])
        reason, percent, _, _ = PAST_FAMILY_OVERRIDE_REASONS[int(rng.choice(len(odds), p=odds / odds.sum()))]
        rows.append((mo, (None, FAMILIES[f].name, None, round(float(rng.uniform(*percent)), 2), reason)))
    return rows


def _overrides_frame(cycle_day: np.ndarray, month_day: np.ndarray, rows: list[tuple],
                     owner: np.ndarray) -> pl.DataFrame:
    """Override rows (sku, family, quantity, percent, reason) with their cycle, month and owner, in key order."""
    frame = pl.DataFrame(
        {
            "cycle": np.asarray(cycle_day, dtype=np.int64).astype("datetime64[D]"),
            "sku": [r[0] for r in rows],
            "family": [r[1] for r in rows],
            "month": np.asarray(month_day, dtype=np.int64).astype("datetime64[D]"),
            "quantity": [r[2] for r in rows],
            "percent": [r[3] for r in rows],
            "reason": [r[4] for r in rows],
            "owner": owner.tolist(),
        },
        schema_overrides={"sku": pl.String, "family": pl.String, "quantity": pl.Int64, "percent": pl.Float64},
    )
    return frame.sort("cycle", "month", "sku", "family", nulls_last=True)


def _budget(rng: np.random.Generator, cal: Calendar, family_revenue: np.ndarray) -> pl.DataFrame:
    """Next year's revenue target per family: the same month last year, grown at the family's last-year
    growth, plus the 5-10 % of ambition a budget usually carries."""
    last_year = family_revenue[:, -12:]
    if cal.months >= 24:
        prior = family_revenue[:, -24:-12].sum(axis=1)
        growth = np.where(prior > 0, last_year.sum(axis=1) / np.maximum(prior, 1e-9) - 1, 0.0)
    else:
        growth = np.zeros(len(FAMILIES))
    growth = np.clip(growth, *BUDGET_GROWTH_BOUNDS)
    target = last_year * (1 + growth[:, None]) * rng.uniform(*BUDGET_AMBITION, last_year.shape)
    target = np.round(target / BUDGET_STEP) * BUDGET_STEP
    sold = np.flatnonzero(family_revenue.sum(axis=1) > 0)
    month = _month_bounds(cal.cycle_month + np.arange(BUDGET_MONTHS))[0]
    f, h = np.meshgrid(sold, np.arange(BUDGET_MONTHS))  # month-major rows
    return pl.DataFrame({
        "month": month[h.ravel()].astype("datetime64[D]"),
        "family": np.array([x.name for x in FAMILIES])[f.ravel()],
        "revenue_target": target[f.ravel(), h.ravel()].astype(np.float64),
    })


def _cash(rng: np.random.Generator, cal: Calendar, family_revenue: np.ndarray) -> dict[str, pl.DataFrame]:
    """Customer terms by channel, the cash at the last two month-ends with a credit line, monthly opex (marketing
    up in the holiday months) and quarterly VAT payments, scaled to last year's revenue."""
    monthly = float(family_revenue[:, -12:].sum()) / 12

    def step(x: np.ndarray | float) -> np.ndarray:
        return np.round(np.asarray(x, dtype=np.float64) / CASH_STEP) * CASH_STEP

    terms = pl.DataFrame({"channel": list(COLLECTION_DAYS),
                          "collection_days": [int(rng.choice(days)) for days in COLLECTION_DAYS.values()]})
    starts, lengths = _month_bounds(cal.cycle_month - np.arange(2, 0, -1))
    opening = step(monthly * rng.uniform(*OPENING_CASH_MONTHS, 2))
    position = pl.DataFrame({"as_of": (starts + lengths - 1).astype("datetime64[D]"), "opening_cash": opening,
                             "credit_line": step(np.full(2, monthly * CREDIT_LINE_MONTHS))})
    months = cal.cycle_month - OPEX_MONTHS_BEFORE + np.arange(OPEX_MONTHS)
    holiday = np.isin(months % 12, HOLIDAY_MONTHS)
    categories, shares = list(OPEX_SHARES), np.array(list(OPEX_SHARES.values()))
    amount = monthly * shares[None, :] * rng.uniform(0.95, 1.05, (len(months), len(shares)))
    amount[:, categories.index("Marketing")] *= np.where(holiday, 1.6, 0.8)
    c, m = np.meshgrid(np.arange(len(categories)), np.arange(len(months)))  # month-major rows
    opex = pl.DataFrame({"month": _month_bounds(months)[0][m.ravel()].astype("datetime64[D]"),
                         "category": np.array(categories)[c.ravel()], "amount": step(amount[m.ravel(), c.ravel()])})
    # January, April, July, October: the last quarter's VAT, due on the 20th; what fell due before the cycle is paid.
    quarters = months[(months % 3 == 0) & (months >= cal.cycle_month)]
    payables = pl.DataFrame({
        "due_date": (_month_bounds(quarters)[0] + 19).astype("datetime64[D]"),
        "description": [f"VAT Q{(int(q) % 12) // 3 or 4}" for q in quarters],
        "amount": step(3 * monthly * VAT_SHARE * rng.uniform(0.9, 1.1, len(quarters))),
    })
    return {PAYMENT_TERMS.name: terms, CASH_POSITION.name: position, OPEX.name: opex, PAYABLES.name: payables}
