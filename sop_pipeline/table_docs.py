"""The description of every published table and column, from the one place each is written.

Tables of schema `sop` are described by the output registry (`outputs.py`), the marts by their dbt `.yml`
files (through dbt's manifest). The BI copy carries these as DuckDB comments and the Dagster asset pages as
column schemas, so neither keeps a second copy of the text.
"""

from __future__ import annotations

import json
from pathlib import Path

from sop_pipeline.outputs import OUTPUT_TABLES

OUTPUT_SCHEMA, MARTS_SCHEMA = "sop", "marts"

# (schema, table) -> (table description, {column: description})
TableDocs = dict[tuple[str, str], tuple[str, dict[str, str]]]


def output_docs() -> TableDocs:
    """The registry's tables: their grain as the table's description, and each column's meaning."""
    return {(OUTPUT_SCHEMA, t.name): (t.grain, dict(t.columns)) for t in OUTPUT_TABLES}


def dbt_docs(manifest: Path) -> TableDocs:
    """The marts' descriptions as dbt's manifest holds them (written in each model's .yml)."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {
        (MARTS_SCHEMA, node["name"]): (
            " ".join(node.get("description", "").split()),
            {name: " ".join(column.get("description", "").split()) for name, column in node["columns"].items()},
        )
        for node in nodes
        if node["resource_type"] == "model" and node["schema"] == MARTS_SCHEMA
    }


def published_docs(manifest: Path) -> TableDocs:
    """Every table the BI copy may hold, described."""
    return {**dbt_docs(manifest), **output_docs()}
