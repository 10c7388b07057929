"""The README documents every input column and every published column, and the two quickstart commands."""

from pathlib import Path

import pytest
import yaml

from sop_pipeline.config import ENV_VARS
from sop_pipeline.ingest.contract import DATASETS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MARTS = sorted((ROOT / "dbt_project" / "models" / "marts").glob("*.yml"))


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def test_quickstart_is_make_demo_then_make_test():
    quickstart = section("Quickstart")
    assert quickstart.index("make demo") < quickstart.index("make test")


@pytest.mark.parametrize("dataset", DATASETS, ids=[d.name for d in DATASETS])
def test_every_input_column_is_documented(dataset):
    inputs = section("Inputs")
    table = inputs[inputs.index(f"#### `{dataset.name}/`"):]
    for column in dataset.columns:
        assert f"| `{column.name}` |" in table, f"{dataset.name}.{column.name}"


@pytest.mark.parametrize("path", MARTS, ids=[p.stem for p in MARTS])
def test_every_mart_column_is_documented(path):
    model = yaml.safe_load(path.read_text())["models"][0]
    outputs = section("Outputs")
    table = outputs[outputs.index(f"#### `marts.{model['name']}`"):]
    for column in model["columns"]:
        assert f"| `{column['name']}` |" in table, f"{model['name']}.{column['name']}"


def test_every_environment_variable_is_documented():
    configuration = section("Configuration")
    for variable in ENV_VARS:
        assert f"`{variable}`" in configuration


def test_generated_tables_are_up_to_date():
    """Run `make readme` after changing the contract or a mart's .yml."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_tables.py"), "--check"])
    assert done.returncode == 0, "README tables are stale: run `make readme`"
