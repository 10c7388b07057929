"""Scenarios: the same supply and finance logic re-run under other assumptions, compared in one grid (SPEC §9).

A scenario is a set of levers, read from a YAML file (the packaged `scenarios.yaml` documents each one):
the demand quantile and a multiplier on it, a delay on supplier receipts (for all suppliers or per
supplier), a multiplier on supplier capacity, one on unit prices, a monthly cap on purchases, a multiplier
on operating expenses, customer terms per channel, and a launch spend paid over the first months (a share of
the scenario's revenue, so that the packaged file fits a brand of any size). A
lever left out keeps the consensus plan's assumption, so a scenario states only how it differs.

The file is checked whole before anything runs, because a typo that silently falls back to a default
would show the executive meeting a scenario nobody asked for. Unknown keys, wrong types, out-of-range
values, duplicate keys (plain YAML keeps the last one without a word) and names that are not simple
identifiers are errors naming the file, the scenario, the key and the rule. A scenario named `central`
must exist: it is the plan everyone reads, the one the others are compared with.

Demand under a quantile q is interpolated linearly in probability between the plan's band points
(0.1, p10), (0.5, consensus) and (0.9, p90). The consensus is the median point rather than the
forecast's own p50 because it is the number the business agreed on; q = 0.5 gives it exactly. The
interpolation is monotone in q (clipped to its segment, so rounding cannot cross the consensus), which
keeps cautious ≤ central ≤ ambitious row by row whenever their quantiles and multipliers are ordered.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import polars as pl
import yaml

CENTRAL = "central"
SCENARIOS_FILE = "scenarios.yaml"
NAME_PATTERN = re.compile(r"[a-z0-9_]+")
NAME_RULE = "must be a simple identifier (lower-case letters, digits and _)"

# The band's probability points: the plan carries demand at these three quantiles.
LOW, MEDIAN, HIGH = 0.1, 0.5, 0.9
BAND = ("p10", "consensus", "p90")


class ScenarioError(ValueError):
    """A scenario file or scenario that breaks a rule; the message says where and which rule."""


@dataclass(frozen=True)
class Lever:
    """One numeric lever: where it lives in the YAML file, which `Scenario` field it sets, and its range."""

    field: str
    key: str  # dotted path inside a scenario's YAML mapping
    low: float
    low_inclusive: bool = True
    high: float | None = None  # inclusive
    whole: bool = False  # a whole number (months) rather than any number
    optional: bool = False  # null allowed (means "no such assumption")

    @property
    def rule(self) -> str:
        if self.high is not None:
            return f"must lie between {self.low:g} and {self.high:g}"
        return f"must be {'at least' if self.low_inclusive else 'greater than'} {self.low:g}"

    def problem(self, value: object) -> str | None:
        """What is wrong with `value` for this lever, or None if it is acceptable."""
        if value is None:
            return None if self.optional else "must be given (null is not allowed here)"
        # bool is an int to Python but never a number to a planner: `yes` in YAML is a typo here.
        kinds = int if self.whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            return f"must be {'a whole number' if self.whole else 'a number'}, got {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value!r}"
        above = value >= self.low if self.low_inclusive else value > self.low
        below = self.high is None or value <= self.high
        return None if above and below else f"{self.rule}, got {value!r}"


LEVERS = (
    Lever("demand_quantile", "demand.quantile", low=LOW, high=HIGH, optional=True),
    Lever("demand_multiplier", "demand.multiplier", low=0, low_inclusive=False),
    Lever("supplier_delay_months", "supplier_delay_months", low=0, whole=True),
    Lever("capacity_multiplier", "capacity_multiplier", low=0),
    Lever("price_multiplier", "price_multiplier", low=0, low_inclusive=False),
    Lever("purchase_budget", "purchase_budget", low=0, low_inclusive=False, optional=True),
    Lever("opex_multiplier", "opex_multiplier", low=0),
    Lever("launch_revenue_share", "launch.revenue_share", low=0, high=1),
    Lever("launch_months", "launch.months", low=1, whole=True),
)
SUPPLIER_DELAY = Lever("supplier_delays", "supplier_delays", low=0, whole=True)
COLLECTION_DAYS = Lever("collection_days", "collection_days", low=0, whole=True)

SCENARIO_KEYS = (
    "description", "demand", "supplier_delay_months", "supplier_delays",
    "capacity_multiplier", "price_multiplier", "purchase_budget", "opex_multiplier", "collection_days", "launch",
)
DEMAND_KEYS = ("quantile", "multiplier")
LAUNCH_KEYS = ("revenue_share", "months")
NESTED_KEYS = {"demand": DEMAND_KEYS, "launch": LAUNCH_KEYS}  # levers grouped under one key, read as `key.sub`


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    demand_quantile: float | None = None  # 0.10..0.90; None or 0.5 = the consensus plan itself
    demand_multiplier: float = 1.0  # > 0, applied after the quantile
    supplier_delay_months: int = 0  # >= 0, every supplier's receipts (open POs and planned orders) arrive later
    supplier_delays: Mapping[str, int] = field(default_factory=dict, hash=False)  # per-supplier override
    capacity_multiplier: float = 1.0  # >= 0, scales every supplier's monthly capacity
    price_multiplier: float = 1.0  # > 0, scales unit prices (revenue, margin, revenue at risk), not demand
    purchase_budget: float | None = None  # > 0, max value at cost of planned orders released per month
    opex_multiplier: float = 1.0  # >= 0, scales the operating expenses of opex/ (the spend an upside needs)
    collection_days: Mapping[str, int] = field(default_factory=dict, hash=False)  # per-channel customer terms
    launch_revenue_share: float = 0.0  # 0..1, a launch spend of this share of the scenario's horizon revenue...
    launch_months: int = 1  # >= 1, ...paid in equal parts over the first launch_months months

    def __post_init__(self) -> None:
        where = f"scenario {self.name!r}"
        if not isinstance(self.name, str) or not NAME_PATTERN.fullmatch(self.name):
            raise ScenarioError(f"{where}: the name {NAME_RULE}")
        if not isinstance(self.description, str):
            raise ScenarioError(f"{where}, field 'description': must be text, got {self.description!r}")
        for lever in LEVERS:
            if problem := lever.problem(getattr(self, lever.field)):
                raise ScenarioError(f"{where}, field '{lever.field}': {problem}")
        for lever, kind, key_problem in KEYED_LEVERS:
            values = dict(getattr(self, lever.field))
            for key, value in values.items():
                if problem := key_problem(key) or lever.problem(value):
                    raise ScenarioError(f"{where}, field '{lever.field}', {kind} {key!r}: {problem}")
            # Read-only, so a scenario shared between assets cannot be changed by one of them.
            object.__setattr__(self, lever.field, MappingProxyType(values))

    def delay_for(self, supplier: str | None) -> int:
        """Months this supplier's receipts arrive late: its own delay if it has one, else the general one."""
        if supplier is None:
            return self.supplier_delay_months
        return self.supplier_delays.get(supplier, self.supplier_delay_months)


def default_scenarios_path() -> Path:
    """The packaged scenario file: cautious, central and ambitious, each lever documented."""
    return Path(__file__).with_name(SCENARIOS_FILE)


def load_scenarios(path: Path | None = None) -> tuple[Scenario, ...]:
    """The scenarios of a YAML file (default: the packaged one), in the file's order, checked whole."""
    path = default_scenarios_path() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file ({exc.strerror or exc})") from exc
    try:
        document = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except DuplicateKeyError as exc:
        raise ScenarioError(_duplicate_message(path, exc)) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    return parse_scenarios(document, path)


def parse_scenarios(document: object, source: Path | str) -> tuple[Scenario, ...]:
    """Scenarios from an already parsed YAML document; `source` names it in error messages."""
    if document is None:
        raise ScenarioError(f"{source}: the file is empty; it must hold a 'scenarios' mapping")
    if not isinstance(document, dict):
        raise ScenarioError(f"{source}: the top level must be a mapping with the key 'scenarios', got {document!r}")
    for key in document:
        if key != "scenarios":
            raise ScenarioError(f"{source}: unknown top-level key {key!r}; the only one is 'scenarios'")
    bodies = document.get("scenarios")
    if not bodies:
        raise ScenarioError(f"{source}: no scenarios under 'scenarios'; define at least '{CENTRAL}'")
    if not isinstance(bodies, dict):
        raise ScenarioError(f"{source}: 'scenarios' must map scenario names to their levers, got {bodies!r}")
    scenarios = []
    for name, body in bodies.items():
        try:
            scenarios.append(Scenario(name, **_scenario_fields(body)))
        except InvalidKey as exc:
            key = f", key '{exc.key}'" if exc.key else ""
            raise ScenarioError(f"{source}: scenario '{name}'{key}: {exc.problem}") from None
        except ScenarioError as exc:  # the rules the dataclass checks itself, e.g. the name
            raise ScenarioError(f"{source}: {exc}") from None
    if CENTRAL not in {s.name for s in scenarios}:
        raise ScenarioError(
            f"{source}: no scenario named '{CENTRAL}'; every file needs it, it is the plan the others are "
            f"compared with (found: {', '.join(s.name for s in scenarios)})"
        )
    return tuple(scenarios)


class InvalidKey(Exception):
    """A key of one scenario's mapping that breaks a rule; turned into a ScenarioError with file and scenario."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def _scenario_fields(body: object) -> dict:
    """`Scenario` keyword arguments from one scenario's YAML mapping (None = all defaults)."""
    raw = _mapping(body, "", SCENARIO_KEYS)
    for group, keys in NESTED_KEYS.items():
        raw |= {f"{group}.{key}": value for key, value in _mapping(raw.pop(group, None), group, keys).items()}
    fields: dict = {}
    for lever in LEVERS:
        if lever.key in raw:
            value = raw[lever.key]
            if problem := lever.problem(value):
                raise InvalidKey(lever.key, problem)
            fields[lever.field] = value if value is None or lever.whole else float(value)
    description = raw.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise InvalidKey("description", f"must be text, got {description!r}")
        fields["description"] = description.strip()
    for lever, _kind, key_problem in KEYED_LEVERS:
        values = _mapping(raw.get(lever.key), lever.key, None)
        for key, value in values.items():
            if problem := key_problem(key) or lever.problem(value):
                raise InvalidKey(f"{lever.key}.{key}", problem)
        if values:
            fields[lever.field] = values
    return fields


def _channel_problem(channel: object) -> str | None:
    return None if isinstance(channel, str) and channel.strip() else f"a channel must be a name, got {channel!r}"


def _mapping(value: object, key: str, allowed: tuple[str, ...] | None) -> dict:
    """`value` as a dict (None = empty), its keys among `allowed` when given."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        expected = "a mapping" + (f" with keys among {', '.join(allowed)}" if allowed else "")
        raise InvalidKey(key, f"must be {expected}, got {value!r}")
    for name in value:
        if allowed is not None and name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InvalidKey(f"{key}.{name}" if key else str(name), f"unknown key; {hint}expected one of "
                             f"{', '.join(allowed)}")
    return dict(value)


def _supplier_problem(supplier: object) -> str | None:
    # A bare number in YAML (`1001: 2`) reads as an int; the supplier table's ids are text.
    if not isinstance(supplier, str) or not supplier.strip():
        return f"a supplier id must be text (quote it in YAML), got {supplier!r}"
    return None


class DuplicateKeyError(yaml.YAMLError):
    """The same key twice in one YAML mapping; `path` is the keys leading to it."""

    def __init__(self, path: tuple[str, ...], line: int):
        super().__init__(f"line {line}: key '{'.'.join(path)}' given twice")
        self.path, self.line = path, line


class UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping, where plain YAML keeps the last silently."""

    def construct_document(self, node):
        _refuse_duplicate_keys(node, (), set())
        return super().construct_document(node)


def _refuse_duplicate_keys(node: yaml.Node, path: tuple[str, ...], seen: set[int]) -> None:
    if id(node) in seen:  # an alias to a node already checked (or a recursive structure)
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[tuple[str, str]] = set()
        for key_node, value_node in node.value:
            key = (key_node.tag, key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key[1] != "<<":  # merge keys may repeat by design
                if key in keys:
                    raise DuplicateKeyError((*path, str(key[1])), key_node.start_mark.line + 1)
                keys.add(key)
            _refuse_duplicate_keys(value_node, (*path, str(key[1]) if key else "?"), seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, (*path, "[]"), seen)


def _duplicate_message(source: Path, error: DuplicateKeyError) -> str:
    why = "YAML would silently keep the last one"
    path, line = error.path, error.line
    if path[:1] == ("scenarios",) and len(path) == 2:
        return f"{source}: scenario '{path[1]}': defined twice (again on line {line}); {why}"
    if path[:1] == ("scenarios",) and len(path) > 2:
        return f"{source}: scenario '{path[1]}', key '{'.'.join(path[2:])}': given twice (line {line}); {why}"
    return f"{source}: key '{'.'.join(path)}': given twice (line {line}); {why}"


def scenario_demand(plan: pl.DataFrame, scenario: Scenario) -> pl.DataFrame:
    """One row per SKU and month of the plan: `sku, month, demand` (Float64), the scenario's demand.

    `plan` holds `sku, month, p10, consensus, p90` with 0 <= p10 <= consensus <= p90. Demand is the
    scenario's quantile, interpolated between the band points, times its demand multiplier.
    """
    missing = [c for c in ("sku", "month", *BAND) if c not in plan.columns]
    if missing:
        raise ValueError(f"scenario_demand: the plan lacks column(s) {', '.join(missing)}")
    p10, consensus, p90 = (pl.col(c).cast(pl.Float64) for c in BAND)
    ordered = ((p10 >= 0) & (p10 <= consensus) & (consensus <= p90)).fill_null(False)
    crossed = plan.filter(~ordered)
    if crossed.height:
        row = crossed.row(0, named=True)
        raise ValueError(
            f"scenario_demand: {crossed.height} plan row(s) break 0 <= p10 <= consensus <= p90, first: "
            f"sku {row['sku']!r}, month {row['month']}: p10 {row['p10']}, consensus {row['consensus']}, "
            f"p90 {row['p90']}"
        )
    demand = quantile_demand(scenario.demand_quantile) * scenario.demand_multiplier
    return plan.select("sku", "month", demand.cast(pl.Float64).alias("demand")).sort("sku", "month")


def quantile_demand(quantile: float | None) -> pl.Expr:
    """Demand at `quantile`, linear in probability between (0.1, p10), (0.5, consensus), (0.9, p90).

    Each segment is written from its own end (p10 + t·Δ below the median, p90 − s·Δ above), so q = 0.1
    and q = 0.9 give p10 and p90 exactly, then clipped at the consensus, so rounding keeps it monotone.
    """
    p10, consensus, p90 = (pl.col(c).cast(pl.Float64) for c in BAND)
    if quantile is None or quantile == MEDIAN:
        return consensus
    if not LOW <= quantile <= HIGH:
        raise ValueError(f"quantile must lie between {LOW} and {HIGH}, got {quantile}")
    if quantile < MEDIAN:
        t = (quantile - LOW) / (MEDIAN - LOW)
        return pl.min_horizontal(p10 + t * (consensus - p10), consensus)
    s = (HIGH - quantile) / (HIGH - MEDIAN)
    return pl.max_horizontal(p90 - s * (p90 - consensus), consensus)


# Levers given per supplier or per channel: (lever, what its keys name, the rule for a key).
KEYED_LEVERS = ((SUPPLIER_DELAY, "supplier", _supplier_problem), (COLLECTION_DAYS, "channel", _channel_problem))
