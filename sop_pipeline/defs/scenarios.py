"""Supply review, finance and scenarios (SPEC §7–§9): every scenario of the YAML file through the same code.

One multi-asset, so that re-running the scenarios alone (`sop run --scenarios-only`, or the `scenarios` job
in the UI) recomputes every scenario-dependent table of the cycle from the locked plan in seconds, without
touching the forecast or the lock. In forecast-only mode (no stock counts landed) it writes the tables with
no row for the cycle, so BI sees the same tables, and every later stage runs as usual.
"""

from dataclasses import dataclass
from datetime import date

import dagster as dg
import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import parse_cycle
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.scenarios import CENTRAL, ScenarioError, load_scenarios
from sop_pipeline.supply.forecast_only import forecast_only_message, is_forecast_only
from sop_pipeline.scenario_run import (
    RESULT_SCHEMAS,
    NoPlanError,
    SupplyInputs,
    read_scenario_inputs,
    run_scenario,
    summary_frame,
)
from sop_pipeline.warehouse import connect, write_cycle_tables

OUTPUT_SCHEMA = "sop"
# Scenario-dependent tables: every row carries `cycle` and `scenario`. Their descriptions and columns come
# from the output registry (sop_pipeline.outputs), their types from sop_pipeline.scenario_run.
TABLES = tuple(RESULT_SCHEMAS)
KEYS = {"cycle": pl.Date, "scenario": pl.String}


def read_supply_inputs(sop: SopConfig, cycle: date) -> SupplyInputs:
    """The cycle's supply inputs (sop_pipeline.scenario_run.read_supply_inputs), or a failure saying what to run."""
    with connect(sop.warehouse_path, read_only=True) as con:
        try:
            return read_scenario_inputs(con, cycle, sop)
        except NoPlanError as err:
            raise dg.Failure(description=str(err)) from None


# The checks read the tables as written, for the run's cycle: one SQL count of that cycle's rows breaking the
# rule. Earlier cycles were checked when they ran; counting them again would fail every later cycle on one
# old bad row and report a number that is not this cycle's.
PROJECTION_RULE = "abs(closing - (opening + receipts + planned_receipts - fulfilled)) > 1e-6 OR closing < -1e-9"
MOQ_RULE = "quantity < moq OR abs(quantity - round(quantity / order_multiple) * order_multiple) > 1e-6"


@dataclass(frozen=True)
class RowRule:
    """An asset check: no row of the cycle in `table` matches `sql` (a rule of this module, not user input)."""

    table: str
    name: str
    description: str
    sql: str
    failure: str

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(self.name, asset=self.table, description=self.description)


CHECKS = (
    RowRule("inventory_projection", "projection_balances",
            "closing = opening + receipts + planned_receipts − fulfilled and closing ≥ 0 on every row of the cycle.",
            PROJECTION_RULE, "projection rows break the identity or go negative"),
    RowRule("planned_orders", "orders_respect_moq_and_multiple",
            "Every planned order of the cycle is at least its MOQ and a multiple of its order multiple.",
            MOQ_RULE, "planned orders below MOQ or off the order multiple"),
)


def rows_breaking(con, table: str, rule_sql: str, cycle: date) -> int:
    """How many of `cycle`'s rows of `sop.<table>` match `rule_sql` (a rule of this module, not user input)."""
    return con.execute(f"SELECT count(*) FROM sop.{table} WHERE cycle = ? AND ({rule_sql})", [cycle]).fetchall()[0][0]


def empty_tables() -> dict[str, pl.DataFrame]:
    """Every scenario table with its columns and no row: what forecast-only mode writes for a cycle."""
    return {name: pl.DataFrame(schema={**KEYS, **schema}) for name, schema in RESULT_SCHEMAS.items()}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(name, group_name="scenarios", kinds={"duckdb"},
                     deps=["demand_plan", "forecast_backtest", "fct_inventory_position", "fct_open_supply",
                           "dim_products", "fct_demand_monthly", "stg_raw__suppliers", "stg_raw__budget",
                           "stg_raw__payment_terms", "stg_raw__cash_position", "stg_raw__opex", "stg_raw__payables",
                           dg.AssetKey(["raw", "inventory"])])
        for name in TABLES
    ],
    check_specs=[rule.spec for rule in CHECKS],
    partitions_def=cycles, backfill_policy=one_cycle_per_run, can_subset=False, name="scenario_stage",
)
def scenario_stage(context: dg.AssetExecutionContext, sop: SopConfig):
    """Every scenario of the YAML file through the same supply review and cash plan; one grid compares them."""
    cycle = parse_cycle(context.partition_key)
    with connect(sop.warehouse_path, read_only=True) as con:
        forecast_only = is_forecast_only(con, cycle)
    if forecast_only:
        context.log.info(forecast_only_message(sop.landing_path))
        tables = empty_tables()
    else:
        tables = scenario_tables(sop, cycle)
    with connect(sop.warehouse_path) as con:
        write_cycle_tables(con, OUTPUT_SCHEMA, cycle, tables)
    grid = tables["scenario_summary"]
    for name, frame in tables.items():
        metadata = {"rows": frame.height}
        if forecast_only:
            metadata["forecast_only"] = "no stock counts landed: no row for the cycle"
        elif name == "scenario_summary":
            metadata["grid"] = dg.MetadataValue.md(
                "| scenario | service level | revenue | peak cash need | funding need |\n|---|---|---|---|---|\n" +
                "\n".join(
                    f"| {r['scenario']} | {(r['service_level'] or 0):.1%} | {r['revenue']:,.0f} | "
                    f"{r['peak_cash_need']:,.0f} | "
                    f"{'n/a' if r['funding_need'] is None else format(r['funding_need'], ',.0f')} |"
                    for r in grid.iter_rows(named=True)))
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    with connect(sop.warehouse_path, read_only=True) as con:
        for rule in CHECKS:
            failing = rows_breaking(con, rule.table, rule.sql, cycle)
            yield dg.AssetCheckResult(asset_key=rule.table, check_name=rule.name, passed=failing == 0,
                                      description=f"{failing} {rule.failure} in cycle {cycle:%Y-%m}")
    central = grid.filter(pl.col("scenario") == CENTRAL)
    if not central.is_empty():
        context.log.info(f"central scenario: service level {central['service_level'].item():.1%}, "
                         f"peak cash need {central['peak_cash_need'].item():,.0f}")


def scenario_tables(sop: SopConfig, cycle: date) -> dict[str, pl.DataFrame]:
    """Every scenario of the YAML file through the supply review and cash plan, stacked per table."""
    try:
        scenarios = load_scenarios(sop.scenarios_path)
    except ScenarioError as err:
        raise dg.Failure(description=str(err)) from None
    inputs = read_supply_inputs(sop, cycle)
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in TABLES}
    for scenario in scenarios:
        result = run_scenario(inputs, scenario)
        tag = [pl.lit(cycle).alias("cycle"), pl.lit(scenario.name).alias("scenario")]
        for name in TABLES:
            frame = summary_frame(scenario, result.summary) if name == "scenario_summary" else getattr(result, name)
            parts[name].append(frame.select(*tag, pl.all()))
    return {name: pl.concat(frames, how="vertical_relaxed") for name, frames in parts.items()}
