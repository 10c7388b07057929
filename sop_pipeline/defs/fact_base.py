"""Fact base: the dbt project's models as assets, its tests as asset checks, built per cycle."""

import json
import shutil
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from sop_pipeline.config import SopConfig
from sop_pipeline.dbt_paths import DBT_PROJECT_DIR, dbt_run_executable
from sop_pipeline.faults import fault_point
from sop_pipeline.defs.partitions import cycles, one_cycle_per_run

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# dbt runs through `sop-dbt`, which dies with the run (a killed run must not leave dbt writing the warehouse).
dbt = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_run_executable())
KEEP_DBT_RUNS = 3  # dbt's target and logs of the last runs stay under $SOP_HOME/dbt for debugging
# Under `dagster dev` the manifest is refreshed with `dbt parse` (no database connection);
# elsewhere it is prepared once by `make manifest` or by `sop run` before definitions load.
dbt_project.prepare_if_dev()

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"dbt manifest not found at {dbt_project.manifest_path}: run `make manifest` "
        "(dbt parse, no database needed) or `sop run`, which prepares it."
    )


class SopDbtTranslator(DagsterDbtTranslator):
    """Models are keyed by their model name alone (the table a BI user knows, not its schema);
    sources keep dagster-dbt's `raw/<table>` keys, which are the ingest assets."""

    def get_asset_key(self, dbt_resource_props) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return dg.AssetKey(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props) -> str:
        return "fact_base"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    partitions_def=cycles,
    backfill_policy=one_cycle_per_run,
    dagster_dbt_translator=SopDbtTranslator(),
    name="fact_base",
)
def fact_base(context: dg.AssetExecutionContext, dbt: DbtCliResource, sop: SopConfig):
    """The dbt fact base of one cycle: staging, intermediate and mart models, with their tests."""
    dbt_vars = sop.dbt_vars(context.partition_key)
    target = sop.home_path / "dbt" / context.run_id
    prune_dbt_runs(target.parent, keep=KEEP_DBT_RUNS - 1)
    for event in dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context, target_path=target).stream():
        yield event
        fault_point("dbt_running")


def prune_dbt_runs(folder: Path, keep: int) -> None:
    """Remove all but the `keep` newest run folders of dbt's target and logs (each run writes ~10 MB)."""
    if not folder.is_dir():
        return
    runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: (p.stat().st_mtime_ns, p.name))
    for old in runs[: max(len(runs) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)
