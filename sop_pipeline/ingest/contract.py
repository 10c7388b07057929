"""The landing contract: every input data set, its columns, types, units and key (SPEC §3).

This module is the single source of truth for the inputs. The ingest validation, the raw
tables in the warehouse, the demo generator and the input tables of docs/inputs.md all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical types of the landing files. Dates are ISO `YYYY-MM-DD`; a `month` is a date on the
# first day of its month.
STR, INT, FLOAT, DATE = "str", "int", "float", "date"

PRODUCT_STATUSES = ("active", "phase_out", "discontinued")
PO_STATUSES = ("open", "partial", "received", "cancelled")
EVENT_TYPES = ("promotion", "launch", "new_account", "other")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    description: str
    example: str
    unit: str = ""
    required: bool = True  # the column must be present in the file
    nullable: bool = False  # an empty cell is allowed
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] | None = None
    first_of_month: bool = False
    # A date column must not lie before the earliest input date (SOP_HISTORY_YEARS before the cycle):
    # an older date is a typo. Master-data dates are exempt: a SKU launched decades ago is real.
    may_predate_history: bool = False


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    optional: bool = False  # the whole data set may be absent
    # (column, what it names): its values must be known SKUs, families (from products) or suppliers
    # (from suppliers, when that optional data set is given).
    references: tuple[tuple[str, str], ...] = ()
    not_after_as_of: tuple[str, ...] = ()  # date columns that may not lie in the future
    one_of: tuple[tuple[str, ...], ...] = field(default=())  # exactly one of these is filled

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


PRODUCTS = Dataset(
    name="products",
    description="The product master: one row per SKU.",
    key=("sku",),
    columns=(
        Column("sku", STR, "Stock-keeping unit, the product's code.", "CAN-CHAI-250"),
        Column("name", STR, "Product name.", "Chai candle 250 g"),
        Column("family", STR, "Product family used for aggregates and budgets.", "Candles"),
        Column("unit_cost", FLOAT, "Landed cost of one unit.", "4.20", unit="currency/unit", min_value=0),
        Column("unit_price", FLOAT, "Net list price of one unit.", "14.90", unit="currency/unit", min_value=0),
        Column("supplier", STR, "Supplier code (must exist in suppliers when that data set is given).", "SUP-01"),
        Column("lead_time_days", INT, "Days from order release to receipt.", "45", unit="days", min_value=0),
        Column("moq", INT, "Minimum order quantity.", "200", unit="units", min_value=1),
        Column("order_multiple", INT, "Orders are placed in multiples of this.", "50", unit="units", min_value=1),
        Column("status", STR, "Life-cycle status.", "active", allowed=PRODUCT_STATUSES),
        Column("launch_date", DATE, "First day the SKU could sell.", "2023-03-01", may_predate_history=True),
        Column(
            "discontinue_date",
            DATE,
            "Last day the SKU sells; empty while it is not discontinued.",
            "",
            required=False,
            nullable=True,
            may_predate_history=True,
        ),
    ),
    references=(("supplier", "supplier"),),
)

SALES = Dataset(
    name="sales",
    description="Order lines: one row per order line (date, SKU, channel).",
    key=(),
    columns=(
        Column("date", DATE, "Order date.", "2026-10-14"),
        Column("sku", STR, "SKU sold (must exist in products).", "CAN-CHAI-250"),
        Column("channel", STR, "Sales channel.", "DTC"),
        Column("quantity", FLOAT, "Units ordered.", "3", unit="units", min_value=0),
        Column("net_revenue", FLOAT, "Revenue after discounts, before tax.", "44.70", unit="currency", min_value=0),
        Column("customer", STR, "Customer code.", "C-00042", required=False, nullable=True),
        Column("order_id", STR, "Order number.", "SO-118204", required=False, nullable=True),
    ),
    references=(("sku", "sku"),),
    not_after_as_of=("date",),
)

MISSING_MONTHS = Dataset(
    name="missing_months",
    description="Months whose sales of a SKU are unknown, not zero (an export gap, a series not recorded then): "
    "one row per SKU and month. The fact base leaves their demand null instead of zero-filling it, even where "
    "some order lines exist (a partial export).",
    key=("sku", "month"),
    optional=True,
    columns=(
        Column("sku", STR, "SKU whose sales are unknown (must exist in products).", "CAN-CHAI-250"),
        Column("month", DATE, "Month whose sales are unknown (first day of month).", "2025-03-01", first_of_month=True),
        Column("reason", STR, "Why the month is unknown.", "ERP migration gap", required=False, nullable=True),
    ),
    references=(("sku", "sku"),),
    not_after_as_of=("month",),
)

INVENTORY = Dataset(
    name="inventory",
    description="Stock snapshots: one row per snapshot date, SKU and location. Without any, the cycle runs in "
    "forecast-only mode: fact base, forecast and demand plan, no supply review, cash plan or scenarios.",
    key=("snapshot_date", "sku", "location"),
    optional=True,
    columns=(
        Column("snapshot_date", DATE, "Date the stock was counted (end of day).", "2026-10-31"),
        Column("sku", STR, "SKU (must exist in products).", "CAN-CHAI-250"),
        Column("location", STR, "Warehouse or store.", "WH-MAIN"),
        Column("on_hand", FLOAT, "Units physically on hand.", "340", unit="units", min_value=0),
    ),
    references=(("sku", "sku"),),
    not_after_as_of=("snapshot_date",),
)

PURCHASE_ORDERS = Dataset(
    name="purchase_orders",
    description="Purchase order lines: one row per PO and SKU. Without any, nothing is on order.",
    key=("po_id", "sku"),
    optional=True,
    columns=(
        Column("po_id", STR, "Purchase order number.", "PO-2026-0311"),
        Column("sku", STR, "SKU ordered (must exist in products).", "CAN-CHAI-250"),
        Column("order_date", DATE, "Date the PO was placed.", "2026-09-20"),
        Column("expected_date", DATE, "Date the goods are expected.", "2026-11-05"),
        Column("quantity", FLOAT, "Units ordered.", "600", unit="units", min_value=0),
        Column("received_quantity", FLOAT, "Units received so far.", "0", unit="units", min_value=0),
        Column(
            "received_date",
            DATE,
            "Date of the last receipt; lets a past cycle see a PO that was still open at its start.",
            "",
            required=False,
            nullable=True,
        ),
        Column("status", STR, "PO line status.", "open", allowed=PO_STATUSES),
        Column("unit_cost", FLOAT, "Agreed cost per unit.", "4.10", unit="currency/unit", min_value=0),
    ),
    references=(("sku", "sku"),),
    not_after_as_of=("order_date", "received_date"),
)

SUPPLIERS = Dataset(
    name="suppliers",
    description="Supplier capacity and payment terms: one row per supplier.",
    key=("supplier",),
    optional=True,
    columns=(
        Column("supplier", STR, "Supplier code.", "SUP-01"),
        Column("name", STR, "Supplier name.", "Northwind Wax Co.", required=False, nullable=True),
        Column("monthly_capacity", FLOAT, "Units the supplier can ship per month.", "12000", unit="units/month", min_value=0),
        Column(
            "deposit_share",
            FLOAT,
            "Share of a PO's value paid when the order is released.",
            "0.30",
            unit="fraction 0-1",
            min_value=0,
            max_value=1,
        ),
        Column("payment_days", INT, "Days after receipt the balance is paid.", "30", unit="days", min_value=0),
    ),
)

EVENTS = Dataset(
    name="events",
    description="Demand events (promotions, launches, new accounts): one row per event.",
    key=("event_id",),
    optional=True,
    columns=(
        Column("event_id", STR, "Event code.", "EV-2026-11-BF"),
        Column("event_type", STR, "Kind of event.", "promotion", allowed=EVENT_TYPES),
        Column("sku", STR, "SKU concerned; empty when the event covers a family.", "", nullable=True),
        Column("family", STR, "Family concerned; empty when the event names a SKU.", "Candles", nullable=True),
        Column("channel", STR, "Channel concerned; empty for all channels.", "DTC", nullable=True),
        Column("start_date", DATE, "First day of the event.", "2026-11-24"),
        Column("end_date", DATE, "Last day of the event.", "2026-11-30"),
        Column("uplift_pct", FLOAT, "Expected demand uplift over the event's months.", "0.35", unit="fraction (0.35 = +35 %)", min_value=-1),
        Column("description", STR, "What the event is.", "Black Friday", required=False, nullable=True),
    ),
    references=(("sku", "sku"), ("family", "family")),
    one_of=(("sku", "family"),),
)

OVERRIDES = Dataset(
    name="overrides",
    description="Planner overrides of the forecast: one row per cycle, SKU or family, and month.",
    key=("cycle", "sku", "family", "month"),
    optional=True,
    columns=(
        Column("cycle", DATE, "Cycle the override belongs to (first day of month).", "2026-11-01", first_of_month=True),
        Column("sku", STR, "SKU overridden; empty when a family is.", "CAN-CHAI-250", nullable=True),
        Column("family", STR, "Family overridden; empty when a SKU is.", "", nullable=True),
        Column("month", DATE, "Month overridden (first day of month).", "2026-12-01", first_of_month=True),
        Column("quantity", FLOAT, "Replace the forecast with this many units.", "900", unit="units", nullable=True, min_value=0),
        Column("percent", FLOAT, "Or change the forecast by this fraction.", "", unit="fraction (0.1 = +10 %)", nullable=True, min_value=-1),
        Column("reason", STR, "Why the planner changed the number.", "Retailer confirmed listing"),
        Column("owner", STR, "Who owns the change.", "maria.k"),
    ),
    references=(("sku", "sku"), ("family", "family")),
    one_of=(("sku", "family"), ("quantity", "percent")),
)

BUDGET = Dataset(
    name="budget",
    description="Revenue budget: one row per month and family (empty family = company total).",
    key=("month", "family"),
    optional=True,
    columns=(
        Column("month", DATE, "Budget month (first day of month).", "2026-12-01", first_of_month=True),
        Column("family", STR, "Family; empty for the company total.", "Candles", nullable=True),
        Column("revenue_target", FLOAT, "Budgeted net revenue.", "185000", unit="currency", min_value=0),
    ),
    references=(("family", "family"),),
)

PAYMENT_TERMS = Dataset(
    name="payment_terms",
    description="Customer payment terms: one row per sales channel. A channel without a row is collected when "
    "the revenue is earned; without the data set, all revenue is (the cash plan says so).",
    key=("channel",),
    optional=True,
    columns=(
        Column("channel", STR, "Sales channel, as written in sales.", "Wholesale"),
        Column("collection_days", INT, "Days from the sale to the cash: 0 for direct sales paid at order, the "
               "payout delay of a marketplace, 30 or 60 for wholesale accounts on net terms.", "60", unit="days",
               min_value=0),
    ),
    references=(("channel", "channel"),),
)

CASH_POSITION = Dataset(
    name="cash_position",
    description="Cash at the bank and the credit line: one row per as-of date. The cash plan opens at the "
    "latest row dated on or before the cycle's first day; without one it shows no balance.",
    key=("as_of",),
    optional=True,
    columns=(
        Column("as_of", DATE, "Day the balance was taken (end of day): the last day before the cycle.", "2026-10-31"),
        Column("opening_cash", FLOAT, "Cash at the bank; negative when the credit line is drawn (never beyond it).",
               "250000", unit="currency"),
        Column("credit_line", FLOAT, "Credit line available on top of the cash; empty = none.", "150000",
               unit="currency", required=False, nullable=True, min_value=0),
    ),
    not_after_as_of=("as_of",),
)

OPEX = Dataset(
    name="opex",
    description="Operating expenses paid by month (payroll, rent, marketing, ...): one row per month and category.",
    key=("month", "category"),
    optional=True,
    columns=(
        Column("month", DATE, "Month the expense is paid (first day of month).", "2026-12-01", first_of_month=True),
        Column("category", STR, "Expense category.", "Payroll"),
        Column("amount", FLOAT, "Amount paid that month.", "42000", unit="currency", min_value=0),
    ),
)

PAYABLES = Dataset(
    name="payables",
    description="Payments due beyond purchase orders and opex (tax, loan repayments, a one-off bill): one row "
    "per payment. One due before the cycle is overdue and paid in the cycle's month.",
    key=("due_date", "description"),
    optional=True,
    columns=(
        Column("due_date", DATE, "Day the payment is due.", "2027-01-15"),
        Column("description", STR, "What is paid.", "VAT Q4"),
        Column("amount", FLOAT, "Amount due.", "18000", unit="currency", min_value=0),
    ),
)

DECISION_STATUSES = ("open", "in_progress", "done", "dropped")
# The supply review's exception types (sop_pipeline/supply/status.py), defined here because the decision
# log may name them and the contract is the layer every other one reads.
EXCEPTION_TYPES = ("stockout", "below_safety_stock", "capacity_overload", "excess", "obsolete_risk")

DECISIONS = Dataset(
    name="decisions",
    description="The decision log of the S&OP meetings: one row per decision, its status kept up to date "
                "(`sop decide` appends and updates rows here).",
    key=("decision_id",),
    optional=True,
    columns=(
        Column("decision_id", STR, "Decision code, unique in the log.", "D-2026-11-01"),
        Column("cycle", DATE, "Cycle whose meeting took the decision (first day of month).", "2026-11-01",
               first_of_month=True),
        Column("decision", STR, "What was decided.", "Expedite PO-1043 by air freight"),
        Column("owner", STR, "Who carries it out.", "maria.k"),
        Column("due_date", DATE, "When it is due; empty when open-ended.", "2026-11-20", nullable=True),
        Column("status", STR, "Where it stands.", "open", allowed=DECISION_STATUSES),
        Column("sku", STR, "SKU it concerns; may be empty.", "CAN-CHAI-250", nullable=True),
        Column("family", STR, "Family it concerns; may be empty.", "", nullable=True),
        Column("exception_type", STR, "The kind of exception it answers; may be empty.", "stockout",
               nullable=True, allowed=EXCEPTION_TYPES),
    ),
    references=(("sku", "sku"), ("family", "family")),
)

APPROVALS = Dataset(
    name="approvals",
    description="Approvals of the executive S&OP meeting: one row per cycle and approval, the scenario chosen "
                "(a scheduled run approves the cycle's draft plan with each row not yet applied).",
    key=("cycle", "approved_on", "approved_by", "scenario"),
    optional=True,
    columns=(
        Column("cycle", DATE, "Cycle whose plan is approved (first day of month).", "2026-11-01", first_of_month=True),
        Column("scenario", STR, "Scenario the meeting chose: a scenario of the scenario file.", "central"),
        Column("approved_by", STR, "Who approved the plan.", "ceo.anna"),
        Column("approved_on", DATE, "Day of the approval.", "2026-11-12"),
        Column("note", STR, "What was decided, in a sentence; may be empty.", "Central plan; expedite SUP-02",
               nullable=True),
    ),
    references=(("scenario", "scenario"),),
    not_after_as_of=("approved_on",),
)

# Reference kind → (data set, column) that defines the known values.
REFERENCE_SOURCES = {"sku": ("products", "sku"), "family": ("products", "family"), "supplier": ("suppliers", "supplier"),
                     "channel": ("sales", "channel")}

DATASETS: tuple[Dataset, ...] = (
    PRODUCTS, SALES, MISSING_MONTHS, INVENTORY, PURCHASE_ORDERS, SUPPLIERS, EVENTS, OVERRIDES, BUDGET,
    PAYMENT_TERMS, CASH_POSITION, OPEX, PAYABLES, DECISIONS, APPROVALS,
)
DATASETS_BY_NAME = {d.name: d for d in DATASETS}
