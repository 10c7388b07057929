"""Ingest: one asset per input data set, validated together and written in one transaction.

Nothing reaches the raw tables unless every data set meets the contract (dates no earlier than
`SopConfig.earliest_date` of the cycle included) and the actuals reach the month before the cycle;
stale actuals pass only with `SopConfig.allow_stale_actuals`, and then the freshness checks warn.
"""

from datetime import date

import dagster as dg
import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run
from sop_pipeline.cycle import parse_cycle
from sop_pipeline.ingest.contract import DATASETS, INVENTORY, SALES
from sop_pipeline.scenarios import ScenarioError, load_scenarios
from sop_pipeline.ingest.freshness import Freshness, actuals_freshness, stale, stale_actuals_message
from sop_pipeline.ingest.validate import load_inputs, summarise, violations_frame
from sop_pipeline.warehouse import connect, replace_cycle_rows, replace_raw_tables

QUALITY_SCHEMA, QUALITY_TABLE = "quality", "data_quality_issues"

RAW_SPECS = [
    dg.AssetSpec(
        ["raw", d.name],
        group_name="ingest",
        description=f"{d.description} Validated copy of the `{d.name}/` landing files (table raw.{d.name}).",
        kinds={"duckdb", "polars"},
        metadata={"optional": d.optional, "key": ", ".join(d.key) or "none (order lines)"},
    )
    for d in DATASETS
]


def record_quality(sop: SopConfig, cycle: str, violations) -> pl.DataFrame:
    """Replace this cycle's rows of the data-quality table and write them as a CSV report too."""
    frame = violations_frame(violations).select(pl.lit(cycle).alias("cycle"), pl.all())
    with connect(sop.warehouse_path) as con:
        replace_cycle_rows(con, QUALITY_SCHEMA, QUALITY_TABLE, cycle, frame)
    sop.reports_path.mkdir(parents=True, exist_ok=True)
    frame.write_csv(sop.reports_path / f"data_quality_{cycle}.csv")
    return frame


def fail_on_stale_actuals(sop: SopConfig, freshness: list[Freshness], cycle: date) -> None:
    """Stop the run on actuals that stop before the month preceding the cycle, unless the planner allowed
    them: a month zero-filled as no sales, or planning from an old count, distorts every plan downstream."""
    found = stale(freshness)
    if found and not sop.allow_stale_actuals:
        raise dg.Failure(
            description=stale_actuals_message(found, cycle),
            metadata={f.check: f.latest.isoformat() if f.latest else "none" for f in found},
        )


FRESHNESS_CHECKS = [
    dg.AssetCheckSpec("sales_reach_the_previous_month", asset=["raw", "sales"],
                      description="Sales lines reach the month before the cycle (else it is zero-filled)."),
    dg.AssetCheckSpec("stock_count_is_from_the_previous_month", asset=["raw", "inventory"],
                      description="The latest stock count before the cycle is from the month before it."),
]
_CHECKED_ASSET = {spec.name: spec.asset_key for spec in FRESHNESS_CHECKS}


def scenario_names(sop: SopConfig) -> list[str] | None:
    """The scenario file's names, which a landed approval must name; None when the file is broken (the scenario
    stage reports that, with the file's own error)."""
    try:
        return [scenario.name for scenario in load_scenarios(sop.scenarios_path)]
    except ScenarioError:
        return None


@dg.multi_asset(
    specs=RAW_SPECS,
    check_specs=FRESHNESS_CHECKS,
    partitions_def=cycles,
    backfill_policy=one_cycle_per_run,
    can_subset=False,
    name="raw_inputs",
)
def raw_inputs(context: dg.AssetExecutionContext, sop: SopConfig):
    """One row per input line: every landing data set, validated against the contract, as raw tables.

    All data sets are checked before anything is written, so a bad file leaves the warehouse as
    the last good run left it; the violations go to quality.data_quality_issues and a CSV report.
    Stale actuals fail the run the same way, before any raw table is written, unless allowed.
    """
    cycle, start = context.partition_key, parse_cycle(context.partition_key)
    result = load_inputs(sop.landing_path, sop.as_of_date(), sop.earliest_date(start), sop.history_years,
                         scenarios=scenario_names(sop))
    record_quality(sop, cycle, result.violations)
    if not result.ok:
        raise dg.Failure(
            description=summarise(result.violations),
            metadata={
                "violations": len(result.violations),
                "report": dg.MetadataValue.path(str(sop.reports_path / f"data_quality_{cycle}.csv")),
            },
        )
    freshness = actuals_freshness(result.frames[SALES], result.frames[INVENTORY], start)
    fail_on_stale_actuals(sop, freshness, start)
    with connect(sop.warehouse_path) as con:
        replace_raw_tables(con, result.frames)
    for dataset, frame in result.frames.items():
        files = sorted(frame["_source_file"].unique().to_list()) if frame.height else []
        yield dg.MaterializeResult(
            asset_key=["raw", dataset.name],
            metadata={"rows": frame.height, "files": ", ".join(files) or "absent (optional)"},
        )
    for finding in freshness:
        yield dg.AssetCheckResult(
            asset_key=_CHECKED_ASSET[finding.check],
            check_name=finding.check,
            passed=finding.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=finding.description,
            metadata={"latest": finding.latest.isoformat() if finding.latest else "none"},
        )
