"""Scenarios (SPEC §9): the levers a what-if run changes, read from a YAML file checked whole, and their demand.

The packaged `scenarios.yaml` documents each lever. A file that breaks a rule (an unknown key, a wrong type,
a value out of range, a key given twice, no `central` scenario) fails with the file, scenario, key and rule.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import polars as pl
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter
from pydantic import ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError

CENTRAL = "central"
SCENARIOS_FILE = "scenarios.yaml"

# The band's probability points: the plan carries demand at these three quantiles.
LOW, MEDIAN, HIGH = 0.1, 0.5, 0.9
BAND = ("p10", "consensus", "p90")

# Strict: a bool is never a number (`yes` in YAML is a typo here), months and days are ints (1.5 is refused),
# text is text; numbers are finite; an unknown key is an error. Defaults are checked too (read-only mappings).
STRICT = ConfigDict(strict=True, allow_inf_nan=False, extra="forbid", validate_default=True)


class ScenarioError(ValueError):
    """A scenario file or scenario that breaks a rule; the message says where and which rule."""


def _text(rule: str, test: Callable[[str], object] = str.strip) -> Any:
    """Text passing `test` (by default: not blank); anything else, a bare YAML number included, breaks `rule`."""

    def check(value: object) -> object:
        if isinstance(value, str) and test(value):
            return value
        raise PydanticCustomError("text", rule, {"value": repr(value)})

    return Annotated[str, BeforeValidator(check)]


# Each lever's type, its bounds stated once: Scenario's fields and the YAML file's keys both use these.
Name = _text("the name must be a simple identifier (lower-case letters, digits and _)",
             re.compile(r"[a-z0-9_]+").fullmatch)
SupplierId = _text("a supplier id must be text (quote it in YAML), got {value}")  # `1001: 2` reads as an int
Channel = _text("a channel must be a name, got {value}")
Quantile = Annotated[float | None, Field(ge=LOW, le=HIGH)]  # None = the consensus plan itself
Share = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Budget = Annotated[float | None, Field(gt=0)]  # None = no cap
Months = Annotated[int, Field(ge=0)]
Days = Months  # whole, 0 or more
LaunchMonths = Annotated[int, Field(ge=1)]
# Read-only, so a scenario shared between assets cannot be changed by one of them.
SupplierDelays = Annotated[Mapping[SupplierId, Months], AfterValidator(MappingProxyType)]
CollectionDays = Annotated[Mapping[Channel, Days], AfterValidator(MappingProxyType)]


def _scenario_errors(cls: type) -> type:
    """Make a pydantic dataclass raise a ScenarioError naming the scenario and field, not a ValidationError."""
    validate = cls.__init__

    @functools.wraps(validate)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            validate(self, *args, **kwargs)
        except ValidationError as exc:
            fields, name, problems = cls.__pydantic_fields__, args[0] if args else kwargs.get("name"), []
            for error in exc.errors():
                field, *rest = _loc(error)
                field = list(fields)[field] if isinstance(field, int) else field  # given by position
                path = () if field == "name" else (field, *rest)  # the name's rule names it already
                problems.append(f"{_where(name, path, 'field')}: {_problem(error, path, {(): fields})}")
            raise ScenarioError(_listed(problems)) from None

    cls.__init__ = __init__
    return cls


@_scenario_errors
@pydantic_dataclass(frozen=True, config=STRICT)
class Scenario:
    """One scenario's levers; a lever left at its default keeps the consensus plan's assumption."""

    name: Name
    description: str = ""
    demand_quantile: Quantile = None  # which point of the forecast band; None or 0.5 = the consensus plan
    demand_multiplier: Positive = 1.0  # applied after the quantile
    supplier_delay_months: Months = 0  # every supplier's receipts (open POs and planned orders) arrive later
    supplier_delays: SupplierDelays = dataclasses.field(default_factory=dict, hash=False)  # per-supplier override
    capacity_multiplier: NonNegative = 1.0  # scales every supplier's monthly capacity
    price_multiplier: Positive = 1.0  # scales unit prices (revenue, margin, revenue at risk), not demand
    purchase_budget: Budget = None  # max value at cost of planned orders released per month
    opex_multiplier: NonNegative = 1.0  # scales the operating expenses of opex/ (the spend an upside needs)
    collection_days: CollectionDays = dataclasses.field(default_factory=dict, hash=False)  # per-channel terms
    launch_revenue_share: Share = 0.0  # a launch spend of this share of the scenario's horizon revenue...
    launch_months: LaunchMonths = 1  # ...paid in equal parts over the first launch_months months

    def delay_for(self, supplier: str | None) -> int:
        """Months this supplier's receipts arrive late: its own delay if it has one, else the general one."""
        if supplier is None:
            return self.supplier_delay_months
        return self.supplier_delays.get(supplier, self.supplier_delay_months)


class _FixedKeys(BaseModel):
    """A YAML mapping with fixed keys, any other an error; a key left out keeps Scenario's default."""

    model_config = STRICT


class DemandSpec(_FixedKeys):
    quantile: Quantile = Scenario.demand_quantile
    multiplier: Positive = Scenario.demand_multiplier


class LaunchSpec(_FixedKeys):
    revenue_share: Share = Scenario.launch_revenue_share
    months: LaunchMonths = Scenario.launch_months


class ScenarioSpec(_FixedKeys):
    """One scenario as the YAML file writes it; null for the description, a group or a mapping = left out."""

    description: Annotated[str, StringConstraints(strip_whitespace=True)] | None = None
    demand: DemandSpec | None = None
    supplier_delay_months: Months = Scenario.supplier_delay_months
    supplier_delays: dict[SupplierId, Months] | None = None
    capacity_multiplier: NonNegative = Scenario.capacity_multiplier
    price_multiplier: Positive = Scenario.price_multiplier
    purchase_budget: Budget = Scenario.purchase_budget
    opex_multiplier: NonNegative = Scenario.opex_multiplier
    collection_days: dict[Channel, Days] | None = None
    launch: LaunchSpec | None = None

    def levers(self) -> dict[str, Any]:
        """`Scenario` keyword arguments: `demand.quantile` becomes `demand_quantile`, and so on."""
        levers = self.model_dump(exclude_none=True)
        for group in ("demand", "launch"):
            levers |= {f"{group}_{key}": value for key, value in levers.pop(group, {}).items()}
        return levers


GROUPS = {(): ScenarioSpec, ("demand",): DemandSpec, ("launch",): LaunchSpec}  # YAML mappings with fixed keys
_FIELDS = {path: group.model_fields for path, group in GROUPS.items()}
_SCENARIOS = TypeAdapter(dict[Name, ScenarioSpec | None], config=STRICT)


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
    try:
        specs = _SCENARIOS.validate_python(bodies)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name, path = _loc(error)[0], _loc(error)[1:]  # the scenario, then the keys inside it
            problems.append(f"{_where(name, path, 'key')}: {_problem(error, path, _FIELDS)}")
        raise ScenarioError(_listed(problems, source)) from None
    scenarios = tuple(Scenario(name, **(spec.levers() if spec else {})) for name, spec in specs.items())
    if CENTRAL not in specs:
        raise ScenarioError(
            f"{source}: no scenario named '{CENTRAL}'; every file needs it, it is the plan the others are "
            f"compared with (found: {', '.join(specs)})"
        )
    return scenarios


# Pydantic's error types in a planner's words; a value out of range is worded from its field's bounds.
RULES = {
    "int_type": "must be a whole number", "float_type": "must be a number", "string_type": "must be text",
    "finite_number": "must be a finite number", "dict_type": "must be a mapping", "mapping_type": "must be a mapping",
}


def _problem(error: ErrorDetails, path: tuple, fields_at: Mapping[tuple, Mapping[str, FieldInfo]]) -> str:
    """A pydantic error at `path` inside one scenario, in plain words; `fields_at`: each fixed mapping's fields."""
    kind, value = error["type"], error["input"]
    fields = fields_at.get(path[:-1], {})  # the keys beside the one at fault, with their bounds
    if kind in ("extra_forbidden", "invalid_key", "unexpected_keyword_argument"):
        close = difflib.get_close_matches(str(path[-1]), list(fields), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown key; {hint}expected one of {', '.join(fields)}"
    if value is None:
        return "must be given (null is not allowed here)"
    if kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        info = fields.get(path[-1])
        bounds = {b: getattr(m, b) for m in getattr(info, "metadata", ()) for b in ("ge", "gt", "le") if hasattr(m, b)}
        bounds |= error.get("ctx", {})
        rule = (f"must lie between {bounds['ge']:g} and {bounds['le']:g}" if {"ge", "le"} <= bounds.keys() else
                f"must be greater than {bounds['gt']:g}" if "gt" in bounds else f"must be at least {bounds['ge']:g}")
    elif kind == "model_type":
        rule = f"must be a mapping with keys among {', '.join(fields_at[path])}"
    elif kind in RULES:
        rule = RULES[kind]
    else:  # our own errors (a name, a supplier id, a channel) say it all
        return error["msg"]
    return f"{rule}, got {value!r}"


def _loc(error: ErrorDetails) -> tuple:
    """Where the error is; a wrong key as written (pydantic's location reads a key `true` as 1)."""
    loc = error["loc"]
    return (*loc[:-2], error["input"]) if loc[-1] == "[key]" else loc


def _where(name: object, path: tuple, label: str) -> str:
    return f"scenario {name!r}" + (f", {label} '{'.'.join(map(str, path))}'" if path else "")


def _listed(problems: list[str], source: Path | str | None = None) -> str:
    """One problem on one line; several, each once, as a list."""
    problems, where = list(dict.fromkeys(problems)), "" if source is None else f"{source}: "
    if len(problems) == 1:
        return where + problems[0]
    return f"{where}{len(problems)} problems:" + "".join(f"\n    - {problem}" for problem in problems)


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

    The median point is the consensus rather than the forecast's own p50: it is the number the business
    agreed on, and q = 0.5 gives it exactly. Each segment is written from its own end (p10 + t·Δ below the
    median, p90 − s·Δ above), so q = 0.1 and q = 0.9 give p10 and p90 exactly, then clipped at the consensus,
    so rounding keeps it monotone in q: cautious ≤ central ≤ ambitious row by row whenever their quantiles and
    multipliers are ordered.
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
