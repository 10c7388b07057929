"""The README is a newcomer's two screens with the two quickstart commands; docs/ documents every input
column, every published column and every setting, and its generated tables are fresh."""

from pathlib import Path

import pytest
import yaml

from sop_pipeline.config import ENV_VARS
from sop_pipeline.ingest.contract import DATASETS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
MARTS = sorted((ROOT / "dbt_project" / "models" / "marts").glob("*.yml"))


def section(title: str, text: str = README) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end] if end != -1 else text[start:]


def page(name: str) -> str:
    return (DOCS / name).read_text()


def test_quickstart_is_make_demo_then_make_test():
    quickstart = section("Quickstart")
    assert quickstart.index("make demo") < quickstart.index("make test")


def test_the_readme_fits_two_screens_and_links_every_page_of_the_docs():
    assert len(README.splitlines()) <= 120
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert pages and all(f"(docs/{name})" in README for name in pages), pages
    assert "(docs/images/pack.png)" in README and (DOCS / "images" / "pack.png").exists()


@pytest.mark.parametrize("dataset", DATASETS, ids=[d.name for d in DATASETS])
def test_every_input_column_is_documented(dataset):
    inputs = section("Inputs", page("inputs.md"))
    table = inputs[inputs.index(f"#### `{dataset.name}/`"):]
    for column in dataset.columns:
        assert f"| `{column.name}` |" in table, f"{dataset.name}.{column.name}"


@pytest.mark.parametrize("path", MARTS, ids=[p.stem for p in MARTS])
def test_every_mart_column_is_documented(path):
    model = yaml.safe_load(path.read_text())["models"][0]
    outputs = section("Outputs", page("outputs.md"))
    table = outputs[outputs.index(f"#### `marts.{model['name']}`"):]
    for column in model["columns"]:
        assert f"| `{column['name']}` |" in table, f"{model['name']}.{column['name']}"


def test_every_environment_variable_is_documented():
    configuration = section("Configuration", page("operations.md"))
    for variable in ENV_VARS:
        assert f"`{variable}`" in configuration


def test_generated_tables_are_up_to_date():
    """Run `make readme` after changing the contract or a mart's .yml."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_tables.py"), "--check"])
    assert done.returncode == 0, "the generated tables in docs/ are stale: run `make readme`"
