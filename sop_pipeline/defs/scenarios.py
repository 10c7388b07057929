"""Supply review, finance and scenarios (SPEC §7–§9): every scenario of the YAML file through the same code.

One multi-asset, so that re-running the scenarios alone (`sop run --scenarios-only`, or selecting the
`scenarios` group in the UI) recomputes every scenario-dependent table of the cycle from the locked plan
in seconds, without touching the forecast or the lock.

In forecast-only mode (no stock counts landed) the stage materialises nothing: its assets are skippable,
so Dagster records the step as a success without materialisations and skips the checks that read them.
The checks are their own steps for that reason: a check inside the multi-asset would have to report a
result for tables that were never written.
"""

from datetime import date

import dagster as dg
import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.cycle import parse_cycle
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.scenarios import CENTRAL, ScenarioError, load_scenarios
from sop_pipeline.supply.forecast_only import forecast_only_message, is_forecast_only
from sop_pipeline.scenario_run import NoPlanError, SupplyInputs, read_scenario_inputs, run_scenario
from sop_pipeline.warehouse import connect, write_cycle_tables

OUTPUT_SCHEMA = "sop"
# Scenario-dependent tables: every row carries `cycle` and `scenario`. Their descriptions and columns come
# from the output registry (sop_pipeline.outputs).
TABLES = ("inventory_projection", "planned_orders", "supply_gaps", "capacity_load", "sku_status", "exceptions",
          "cash_plan", "budget_gap", "scenario_summary")


def read_supply_inputs(sop: SopConfig, cycle: date) -> SupplyInputs:
    """The cycle's supply inputs (sop_pipeline.scenario_run.read_supply_inputs), or a failure saying what to run."""
    with connect(sop.warehouse_path, read_only=True) as con:
        try:
            return read_scenario_inputs(con, cycle, sop)
        except NoPlanError as err:
            raise dg.Failure(description=str(err)) from None


# The checks read the tables as written, for the run's cycle: one SQL count of that cycle's rows breaking the
# rule. Earlier cycles were checked when they ran; counting them again would fail every later cycle on one
# old bad row and report a number that is not this cycle's. The cycle comes from the run's partition tag
# (a partitioned asset check is still a preview API in the pinned Dagster); a check run on its own, outside
# a cycle's run, checks the newest cycle in the table.
PARTITION_TAG = "dagster/partition"
PROJECTION_RULE = "abs(closing - (opening + receipts + planned_receipts - fulfilled)) > 1e-6 OR closing < -1e-9"
MOQ_RULE = "quantity < moq OR abs(quantity - round(quantity / order_multiple) * order_multiple) > 1e-6"


def rows_breaking(con, table: str, rule_sql: str, cycle: date) -> int:
    """How many of `cycle`'s rows of `sop.<table>` match `rule_sql` (a rule of this module, not user input)."""
    return con.execute(f"SELECT count(*) FROM sop.{table} WHERE cycle = ? AND ({rule_sql})", [cycle]).fetchall()[0][0]


def _rows_breaking(asset: str, name: str, description: str, table: str, rule_sql: str, failure: str):
    @dg.asset_check(asset=asset, name=name, description=description)
    def check(context: dg.AssetCheckExecutionContext, sop: SopConfig) -> dg.AssetCheckResult:
        key = context.run.tags.get(PARTITION_TAG)
        with connect(sop.warehouse_path, read_only=True) as con:
            cycle = parse_cycle(key) if key else con.execute(f"SELECT max(cycle) FROM sop.{table}").fetchone()[0]
            if cycle is None:
                return dg.AssetCheckResult(passed=True, description=f"sop.{table} has no cycle yet")
            failing = rows_breaking(con, table, rule_sql, cycle)
        return dg.AssetCheckResult(passed=failing == 0, description=f"{failing} {failure} in cycle {cycle:%Y-%m}")

    return check


projection_balances = _rows_breaking(
    "inventory_projection", "projection_balances",
    "closing = opening + receipts + planned_receipts − fulfilled and closing ≥ 0 on every row of the cycle.",
    "inventory_projection", PROJECTION_RULE,
    "projection rows break the identity or go negative",
)
orders_respect_moq_and_multiple = _rows_breaking(
    "planned_orders", "orders_respect_moq_and_multiple",
    "Every planned order of the cycle is at least its MOQ and a multiple of its order multiple.",
    "planned_orders", MOQ_RULE,
    "planned orders below MOQ or off the order multiple",
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(name, group_name="scenarios", kinds={"duckdb"}, skippable=True,
                     deps=["demand_plan", "forecast_backtest", "fct_inventory_position", "fct_open_supply",
                           "dim_products", "fct_demand_monthly", "stg_raw__suppliers", "stg_raw__budget",
                           "stg_raw__payment_terms", "stg_raw__cash_position", "stg_raw__opex", "stg_raw__payables",
                           dg.AssetKey(["raw", "inventory"])])
        for name in TABLES
    ],
    partitions_def=cycles, backfill_policy=one_cycle_per_run, can_subset=False, name="scenario_stage",
)
def scenario_stage(context: dg.AssetExecutionContext, sop: SopConfig):
    """Every scenario of the YAML file through the same supply review and cash plan; one grid compares them."""
    cycle = parse_cycle(context.partition_key)
    with connect(sop.warehouse_path, read_only=True) as con:
        forecast_only = is_forecast_only(con, cycle)
    if forecast_only:
        context.log.info(forecast_only_message(sop.landing_path))
        return
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
            if name == "scenario_summary":
                row = {"description": scenario.description, **result.summary}
                parts[name].append(pl.DataFrame([row]).select(*tag, pl.all()))
            else:
                parts[name].append(getattr(result, name).select(*tag, pl.all()))
    tables = {name: pl.concat(frames, how="vertical_relaxed") for name, frames in parts.items()}
    with connect(sop.warehouse_path) as con:
        write_cycle_tables(con, OUTPUT_SCHEMA, cycle, tables)
    grid = tables["scenario_summary"]
    for name, frame in tables.items():
        metadata = {"rows": frame.height}
        if name == "scenario_summary":
            metadata["grid"] = dg.MetadataValue.md(
                "| scenario | service level | revenue | peak cash need | funding need |\n|---|---|---|---|---|\n" +
                "\n".join(
                    f"| {r['scenario']} | {(r['service_level'] or 0):.1%} | {r['revenue']:,.0f} | "
                    f"{r['peak_cash_need']:,.0f} | "
                    f"{'n/a' if r['funding_need'] is None else format(r['funding_need'], ',.0f')} |"
                    for r in grid.iter_rows(named=True)))
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    central = grid.filter(pl.col("scenario") == CENTRAL)
    if not central.is_empty():
        context.log.info(f"central scenario: service level {central['service_level'].item():.1%}, "
                         f"peak cash need {central['peak_cash_need'].item():,.0f}")
