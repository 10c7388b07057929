"""Where the dbt project and the dbt executable are, without loading any dbt or Dagster code."""

import shutil
import sys
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtualenv), so no activated PATH is needed."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_run_executable() -> str:
    """`sop-dbt`, the wrapper a run starts dbt through (it dies with the run), installed beside this Python."""
    beside = Path(sys.executable).with_name("sop-dbt")
    return str(beside) if beside.exists() else (shutil.which("sop-dbt") or dbt_executable())
