"""Scenario files and scenario demand: the packaged default, every rule a file can break, demand by hand."""

from __future__ import annotations

import math
import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_pipeline.scenarios import (
    CENTRAL,
    GROUPS,
    Scenario,
    ScenarioError,
    default_scenarios_path,
    load_scenarios,
    scenario_demand,
)


def write(tmp_path: Path, text: str, name: str = "board.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    return message


# --- the packaged default -------------------------------------------------------------------------------

def test_the_default_file_holds_cautious_central_and_ambitious_in_that_order():
    scenarios = load_scenarios()
    assert [s.name for s in scenarios] == ["cautious", CENTRAL, "ambitious"]
    cautious, central, ambitious = scenarios
    assert (cautious.demand_quantile, cautious.demand_multiplier, cautious.supplier_delay_months) == (0.25, 1.0, 1)
    assert (central.demand_quantile, central.demand_multiplier, central.supplier_delay_months) == (0.5, 1.0, 0)
    assert (ambitious.demand_quantile, ambitious.demand_multiplier, ambitious.capacity_multiplier) == (0.75, 1.0, 1.1)
    # Growth is paid for first (a launch, more opex, new accounts on longer terms); a cautious year spends less.
    assert (ambitious.launch_revenue_share, ambitious.launch_months, ambitious.opex_multiplier) == (0.08, 3, 1.3)
    assert dict(ambitious.collection_days) == {"Wholesale": 90}
    assert (cautious.opex_multiplier, central.opex_multiplier) == (0.85, 1.0)
    assert cautious.launch_revenue_share == central.launch_revenue_share == 0.0
    assert central.description == "The consensus plan as locked."
    assert all(s.description for s in scenarios)
    # Levers the default leaves out keep the consensus assumption.
    for scenario in scenarios:
        assert scenario.price_multiplier == 1.0
        assert scenario.purchase_budget is None
        assert dict(scenario.supplier_delays) == {}
    assert cautious.capacity_multiplier == central.capacity_multiplier == 1.0
    assert central.supplier_delay_months == ambitious.supplier_delay_months == 0


def test_no_path_means_the_packaged_file_beside_the_module():
    path = default_scenarios_path()
    assert path.name == "scenarios.yaml" and path.is_file()
    assert path.parent == Path(__file__).resolve().parents[1] / "sop_pipeline"
    assert load_scenarios(None) == load_scenarios(path)


def test_the_default_file_documents_every_lever_a_scenario_accepts():
    lines = default_scenarios_path().read_text(encoding="utf-8").splitlines()
    comments = "\n".join(line for line in lines if line.lstrip().startswith("#"))
    for path, model in GROUPS.items():  # each key of a scenario, and each of `demand:` and `launch:`
        for key in model.model_fields:
            assert (f"{key}:" if path else key) in comments, (*path, key)


# --- reading a file -----------------------------------------------------------------------------------

def test_every_lever_is_read_and_the_file_order_is_kept(tmp_path):
    path = write(tmp_path, """\
        scenarios:
          zeta_squeeze:
            description: >
              Supplier two late,
              budget capped.
            demand: {multiplier: 0.85}
            supplier_delay_months: 1
            supplier_delays: {SUP-02: 2, "1001": 0}
            capacity_multiplier: 0
            price_multiplier: 1.03
            purchase_budget: 250000
            opex_multiplier: 1.25
            collection_days: {Wholesale: 90}
            launch: {revenue_share: 0.05, months: 3}
          central:
          alpha_promo:
            demand: {quantile: 0.9, multiplier: 1.2}
            purchase_budget: null
    """)
    zeta, central, alpha = load_scenarios(path)
    assert [s.name for s in (zeta, central, alpha)] == ["zeta_squeeze", "central", "alpha_promo"]
    assert zeta == Scenario(
        name="zeta_squeeze",
        description="Supplier two late, budget capped.",
        demand_quantile=None,
        demand_multiplier=0.85,
        supplier_delay_months=1,
        supplier_delays={"SUP-02": 2, "1001": 0},
        capacity_multiplier=0.0,
        price_multiplier=1.03,
        purchase_budget=250000.0,
        opex_multiplier=1.25,
        collection_days={"Wholesale": 90},
        launch_revenue_share=0.05,
        launch_months=3,
    )
    assert isinstance(zeta.purchase_budget, float) and isinstance(zeta.supplier_delay_months, int)
    assert isinstance(zeta.launch_months, int)
    assert central == Scenario(CENTRAL)  # an empty body is the consensus plan
    assert (alpha.demand_quantile, alpha.demand_multiplier, alpha.purchase_budget) == (0.9, 1.2, None)


def test_a_delay_comes_from_the_supplier_override_else_the_general_delay():
    scenario = Scenario("late", supplier_delay_months=1, supplier_delays={"SUP-02": 3, "SUP-03": 0})
    assert scenario.delay_for("SUP-02") == 3
    assert scenario.delay_for("SUP-03") == 0  # an override may also remove the general delay
    assert scenario.delay_for("SUP-01") == 1
    assert scenario.delay_for(None) == 1
    assert Scenario(CENTRAL).delay_for("SUP-02") == 0


def test_a_scenario_is_hashable_and_its_supplier_delays_cannot_be_changed():
    delays = {"SUP-02": 2}
    scenario = Scenario("late", supplier_delays=delays)
    delays["SUP-02"] = 5  # the caller's dict is copied, not shared
    assert scenario.delay_for("SUP-02") == 2
    with pytest.raises(TypeError):
        scenario.supplier_delays["SUP-02"] = 9  # type: ignore[index]
    assert len({scenario, Scenario("late", supplier_delays={"SUP-02": 2})}) == 1


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"name": "Cautious"}, "simple identifier"),
        ({"name": "x", "demand_quantile": 0.95}, "field 'demand_quantile': must lie between 0.1 and 0.9, got 0.95"),
        ({"name": "x", "demand_multiplier": 0}, "field 'demand_multiplier': must be greater than 0, got 0"),
        ({"name": "x", "supplier_delay_months": 1.5}, "field 'supplier_delay_months': must be a whole number"),
        ({"name": "x", "supplier_delays": {"SUP-01": -1}}, "field 'supplier_delays.SUP-01': must be at least 0"),
        ({"name": "x", "purchase_budget": -5}, "field 'purchase_budget': must be greater than 0, got -5"),
        ({"name": "x", "launch_months": 0}, "field 'launch_months': must be at least 1, got 0"),
        ({"name": "x", "demand_multiplier": True}, "field 'demand_multiplier': must be a number, got True"),
        ({"name": "x", "opex_multiplier": math.nan}, "field 'opex_multiplier': must be a finite number, got nan"),
        ({"name": "x", "supplier_delays": {1001: 2}}, "field 'supplier_delays.1001': a supplier id must be text"),
        ({"name": "x", "collection_days": {" ": 30}}, "field 'collection_days. ': a channel must be a name"),
        ({"name": "x", "demand_quantle": 0.3}, "field 'demand_quantle': unknown key; did you mean 'demand_quantile'?"),
    ],
)
def test_a_scenario_built_in_code_obeys_the_same_rules_as_one_read_from_a_file(kwargs, fragment):
    with pytest.raises(ScenarioError, match="scenario ") as caught:
        Scenario(**kwargs)
    assert fragment in str(caught.value)


def test_a_scenario_given_by_position_or_replaced_is_checked_too():
    with pytest.raises(ScenarioError) as caught:
        Scenario("x", demand_multiplier=0)
    assert str(caught.value) == "scenario 'x', field 'demand_multiplier': must be greater than 0, got 0"
    with pytest.raises(ScenarioError, match="^scenario 'High': the name must be a simple identifier"):
        Scenario("High")
    late = Scenario("late", supplier_delays={"SUP-02": 2})
    with pytest.raises(ScenarioError, match="field 'launch_months': must be at least 1, got 0"):
        replace(late, launch_months=0)
    again = replace(late, demand_quantile=None, demand_multiplier=1.0)
    assert again == late and again.delay_for("SUP-02") == 2
    with pytest.raises(TypeError):
        again.supplier_delays["SUP-02"] = 9  # type: ignore[index]


# --- every rule a file can break ------------------------------------------------------------------------

CENTRAL_LINE = "  central: {}\n"


@pytest.mark.parametrize(
    "body, expected",
    [
        # out of range
        ("demand: {quantile: 0.05}", "scenario 'cautious', key 'demand.quantile': must lie between 0.1 and 0.9, "
         "got 0.05"),
        ("demand: {quantile: 0.95}", "key 'demand.quantile': must lie between 0.1 and 0.9, got 0.95"),
        ("demand: {multiplier: 0}", "key 'demand.multiplier': must be greater than 0, got 0"),
        ("demand: {multiplier: -0.5}", "key 'demand.multiplier': must be greater than 0, got -0.5"),
        ("supplier_delay_months: -1", "key 'supplier_delay_months': must be at least 0, got -1"),
        ("supplier_delays: {SUP-02: -2}", "key 'supplier_delays.SUP-02': must be at least 0, got -2"),
        ("capacity_multiplier: -0.1", "key 'capacity_multiplier': must be at least 0, got -0.1"),
        ("price_multiplier: 0", "key 'price_multiplier': must be greater than 0, got 0"),
        ("purchase_budget: 0", "key 'purchase_budget': must be greater than 0, got 0"),
        ("price_multiplier: .nan", "key 'price_multiplier': must be a finite number, got nan"),
        ("purchase_budget: .inf", "key 'purchase_budget': must be a finite number, got inf"),
        ("launch: {revenue_share: 1.5}", "key 'launch.revenue_share': must lie between 0 and 1, got 1.5"),
        ("launch: {months: 0}", "key 'launch.months': must be at least 1, got 0"),
        # wrong types
        ("demand: {quantile: high}", "key 'demand.quantile': must be a number, got 'high'"),
        ("demand: 0.25", "key 'demand': must be a mapping with keys among quantile, multiplier, got 0.25"),
        ("supplier_delay_months: 1.5", "key 'supplier_delay_months': must be a whole number, got 1.5"),
        ("supplier_delay_months: '1'", "key 'supplier_delay_months': must be a whole number, got '1'"),
        ("capacity_multiplier: yes", "key 'capacity_multiplier': must be a number, got True"),
        ("demand: {multiplier: null}", "key 'demand.multiplier': must be given (null is not allowed here)"),
        ("description: 3", "key 'description': must be text, got 3"),
        ("supplier_delays: [SUP-02]", "key 'supplier_delays': must be a mapping, got ['SUP-02']"),
        ("supplier_delays: {1001: 2}", "key 'supplier_delays.1001': a supplier id must be text (quote it in YAML)"),
        ("supplier_delays: {SUP-02: 0.5}", "key 'supplier_delays.SUP-02': must be a whole number, got 0.5"),
        ("launch: {months: 2.5}", "key 'launch.months': must be a whole number, got 2.5"),
        ("launch: 150000", "key 'launch': must be a mapping with keys among revenue_share, months, got 150000"),
        # unknown keys
        ("capcity_multiplier: 1.1", "key 'capcity_multiplier': unknown key; did you mean 'capacity_multiplier'?"),
        ("demand: {qantile: 0.25}", "key 'demand.qantile': unknown key; did you mean 'quantile'?"),
        ("launch: {spend: 150000}", "key 'launch.spend': unknown key; expected one of revenue_share, months"),
        ("lead_time_months: 1", "key 'lead_time_months': unknown key; expected one of description, demand,"),
    ],
)
def test_a_lever_that_breaks_a_rule_names_the_file_scenario_key_and_rule(tmp_path, body, expected):
    message = load_error(tmp_path, f"scenarios:\n{CENTRAL_LINE}  cautious:\n    {body}\n")
    assert expected in message
    assert "scenario 'cautious'" in message


@pytest.mark.parametrize(
    "body, key, rule",
    [
        ("opex_multiplier: true", "opex_multiplier", "must be a number, got True"),
        ("launch: {months: 1.5}", "launch.months", "must be a whole number, got 1.5"),
        ("demand: {multiplier: .nan}", "demand.multiplier", "must be a finite number, got nan"),
        ("launch: {revenue_shar: 0.1}", "launch.revenue_shar",
         "unknown key; did you mean 'revenue_share'? expected one of revenue_share, months"),
    ],
)
def test_the_whole_message_names_the_file_the_scenario_the_key_and_the_rule(tmp_path, body, key, rule):
    path = write(tmp_path, f"scenarios:\n{CENTRAL_LINE}  cautious:\n    {body}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(path)
    assert str(caught.value) == f"{path}: scenario 'cautious', key '{key}': {rule}"


def test_every_problem_of_a_file_is_listed_on_its_own_line(tmp_path):
    message = load_error(tmp_path, """\
        scenarios:
          central: {price_multiplier: 0}
          cautious:
            demand: {quantile: 0.95, multiplier: true}
          Bad: {}
    """)
    assert message.splitlines()[1:] == [
        "    - scenario 'central', key 'price_multiplier': must be greater than 0, got 0",
        "    - scenario 'cautious', key 'demand.quantile': must lie between 0.1 and 0.9, got 0.95",
        "    - scenario 'cautious', key 'demand.multiplier': must be a number, got True",
        "    - scenario 'Bad': the name must be a simple identifier (lower-case letters, digits and _)",
    ]
    assert message.splitlines()[0].endswith(": 4 problems:")


def test_an_empty_group_mapping_or_description_is_left_out(tmp_path):
    path = write(tmp_path, """\
        scenarios:
          central:
            description:
            demand:
            launch:
            supplier_delays:
            collection_days:
    """)
    assert load_scenarios(path) == (Scenario(CENTRAL),)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "the file is empty"),
        ("# only comments\n", "the file is empty"),
        ("- central\n", "the top level must be a mapping with the key 'scenarios', got ['central']"),
        ("scenarios: {central: {}}\nversion: 2\n", "unknown top-level key 'version'"),
        ("scenarios:\n", "no scenarios under 'scenarios'"),
        ("scenarios: [central]\n", "'scenarios' must map scenario names to their levers"),
        ("scenarios:\n  cautious: {}\n  ambitious: {}\n", "no scenario named 'central'"),
        ("scenarios:\n  central: 0.5\n", "scenario 'central': must be a mapping with keys among description, demand"),
        ("scenarios:\n  central: {}\n  Cautious: {}\n", "scenario 'Cautious': the name must be a simple identifier"),
        ("scenarios:\n  central: {}\n  high-demand: {}\n", "scenario 'high-demand': the name must be a simple"),
        ("scenarios:\n  central: {}\n  2024: {}\n", "scenario 2024: the name must be a simple identifier"),
        ("scenarios:\n  central: {}\n  yes: {}\n", "scenario True: the name must be a simple identifier"),
        ("scenarios:\n  central: {demand: {quantile: 0.5}\n", "not valid YAML"),
    ],
)
def test_a_file_that_breaks_a_rule_says_which_file_and_rule(tmp_path, text, expected):
    assert expected in load_error(tmp_path, text)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "scenarios:\n  central: {}\n  cautious: {supplier_delay_months: 1}\n"
            "  cautious: {supplier_delay_months: 2}\n",
            "scenario 'cautious': defined twice (again on line 4); YAML would silently keep the last one",
        ),
        (
            "scenarios:\n  central:\n    price_multiplier: 1.0\n    price_multiplier: 1.1\n",
            "scenario 'central', key 'price_multiplier': given twice (line 4)",
        ),
        (
            "scenarios:\n  central:\n    demand: {quantile: 0.5, quantile: 0.75}\n",
            "scenario 'central', key 'demand.quantile': given twice (line 3)",
        ),
        (
            "scenarios:\n  central:\n    supplier_delays: {SUP-02: 1, SUP-02: 3}\n",
            "scenario 'central', key 'supplier_delays.SUP-02': given twice",
        ),
        ("scenarios: {central: {}}\nscenarios: {central: {}}\n", "key 'scenarios': given twice (line 2)"),
    ],
)
def test_a_name_given_twice_is_an_error_where_plain_yaml_keeps_the_last(tmp_path, text, expected):
    assert yaml.safe_load(text) is not None  # plain YAML accepts these files without a word
    assert expected in load_error(tmp_path, text)


def test_anchors_and_merge_keys_still_work(tmp_path):
    path = write(tmp_path, """\
        scenarios:
          central: &base
            supplier_delay_months: 1
          late:
            <<: *base
            supplier_delays: {SUP-02: 2}
    """)
    central, late = load_scenarios(path)
    assert (central.supplier_delay_months, late.supplier_delay_months, late.delay_for("SUP-02")) == (1, 1, 2)


def test_a_missing_file_is_a_scenario_error_naming_it(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError, match="nowhere.yaml: cannot read the scenario file"):
        load_scenarios(path)


# --- scenario demand ------------------------------------------------------------------------------------

# p10 60, consensus 100, p90 180: 40 units per 0.4 of probability below the median, 80 above.
PLAN = pl.DataFrame(
    {
        "sku": ["B-1", "A-1", "A-1"],
        "month": [date(2026, 12, 1), date(2027, 1, 1), date(2026, 12, 1)],
        "p10": [0.0, 60.0, 10.0],
        "consensus": [0.0, 100.0, 10.0],
        "p90": [0.0, 180.0, 30.0],
    }
)


@pytest.mark.parametrize(
    "quantile, multiplier, expected",
    [
        (0.1, 1.0, [10.0, 60.0, 0.0]),
        (0.25, 1.0, [10.0, 75.0, 0.0]),  # 60 + 0.15 / 0.4 · 40
        (0.5, 1.0, [10.0, 100.0, 0.0]),
        (None, 1.0, [10.0, 100.0, 0.0]),
        (0.75, 1.0, [22.5, 150.0, 0.0]),  # 10 + 0.25 / 0.4 · 20; 100 + 0.625 · 80
        (0.9, 1.0, [30.0, 180.0, 0.0]),
        (0.75, 0.85, [19.125, 127.5, 0.0]),  # the multiplier applies after the quantile
        (None, 1.2, [12.0, 120.0, 0.0]),
    ],
)
def test_scenario_demand_by_hand(quantile, multiplier, expected):
    scenario = Scenario("s", demand_quantile=quantile, demand_multiplier=multiplier)
    result = scenario_demand(PLAN, scenario)
    assert result.columns == ["sku", "month", "demand"]
    assert result.schema["demand"] == pl.Float64 and result.schema["month"] == pl.Date
    assert result["sku"].to_list() == ["A-1", "A-1", "B-1"]
    assert result["month"].to_list() == [date(2026, 12, 1), date(2027, 1, 1), date(2026, 12, 1)]
    assert result["demand"].to_list() == pytest.approx(expected, abs=1e-9)


def test_the_median_and_the_band_ends_are_returned_exactly():
    plan = pl.DataFrame({"sku": ["a"], "month": [1], "p10": [0.1], "consensus": [0.7], "p90": [1.3]})
    for quantile, column in ((0.1, "p10"), (0.5, "consensus"), (None, "consensus"), (0.9, "p90")):
        demand = scenario_demand(plan, Scenario("s", demand_quantile=quantile))["demand"].item()
        assert demand == plan[column].item(), (quantile, demand)


@pytest.mark.parametrize(
    "row, column",
    [
        ({"p10": 120.0, "consensus": 100.0, "p90": 180.0}, "p10 120.0, consensus 100.0"),
        ({"p10": 60.0, "consensus": 200.0, "p90": 180.0}, "consensus 200.0, p90 180.0"),
        ({"p10": -1.0, "consensus": 100.0, "p90": 180.0}, "p10 -1.0"),
        ({"p10": None, "consensus": 100.0, "p90": 180.0}, "p10 None"),
    ],
)
def test_a_crossing_or_negative_band_is_refused_naming_the_row(row, column):
    plan = pl.DataFrame({"sku": ["A-1"], "month": [3], **{k: [v] for k, v in row.items()}},
                        schema_overrides={"p10": pl.Float64})
    with pytest.raises(ValueError, match="break 0 <= p10 <= consensus <= p90") as caught:
        scenario_demand(plan, Scenario(CENTRAL))
    assert "sku 'A-1', month 3" in str(caught.value) and column in str(caught.value)


def test_a_plan_without_the_band_columns_is_refused():
    with pytest.raises(ValueError, match="lacks column"):
        scenario_demand(PLAN.drop("p90"), Scenario(CENTRAL))


def test_the_default_scenarios_order_demand_row_by_row():
    cautious, central, ambitious = (scenario_demand(PLAN, s)["demand"] for s in load_scenarios())
    assert (cautious <= central).all() and (central <= ambitious).all()
    assert (cautious < central).any() and (central < ambitious).any()


amounts = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
bands = st.lists(st.tuples(amounts, amounts, amounts).map(sorted), min_size=1, max_size=8)
quantiles = st.lists(st.floats(min_value=0.1, max_value=0.9), min_size=2, max_size=6)


@settings(max_examples=200, deadline=None)
@given(bands=bands, qs=quantiles, multipliers=st.tuples(st.floats(0.01, 3), st.floats(0.01, 3)).map(sorted))
def test_scenario_demand_is_monotone_in_quantile_and_multiplier_and_never_negative(bands, qs, multipliers):
    plan = pl.DataFrame(
        {
            "sku": [f"s{i}" for i in range(len(bands))],
            "month": [1] * len(bands),
            "p10": [b[0] for b in bands],
            "consensus": [b[1] for b in bands],
            "p90": [b[2] for b in bands],
        }
    )
    low, high = multipliers
    previous = None
    for q in sorted(qs):
        demand = scenario_demand(plan, Scenario("s", demand_quantile=q))["demand"].to_list()
        assert all(d >= 0 and math.isfinite(d) for d in demand)
        # Within the band: between p10 and p90 for every q.
        assert all(b[0] <= d <= b[2] for b, d in zip(bands, demand, strict=True))
        if previous is not None:
            assert all(p <= d for p, d in zip(previous, demand, strict=True)), (q, previous, demand)
        previous = demand
        scaled_low = scenario_demand(plan, Scenario("s", demand_quantile=q, demand_multiplier=low))["demand"]
        scaled_high = scenario_demand(plan, Scenario("s", demand_quantile=q, demand_multiplier=high))["demand"]
        assert (scaled_low <= scaled_high).all()
