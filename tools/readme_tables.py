"""Render the reference tables in docs/ from their sources of truth.

`python tools/readme_tables.py` (`make readme`) rewrites the blocks between the markers of docs/inputs.md,
docs/outputs.md and docs/pack.md; `--check` exits 1 when a page is out of date (the test suite runs it).
Sources: sop_pipeline/ingest/contract.py, the marts' .yml files, sop_pipeline/outputs.py, and the pack's KPI
formulas and bridge causes (sop_pipeline/pack/kpis.py, sop_pipeline/pack/bridge.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sop_pipeline.ingest.contract import DATASETS, DATE  # noqa: E402
from sop_pipeline.outputs import OUTPUT_TABLES  # noqa: E402
from sop_pipeline.pack.bridge import cause_definitions  # noqa: E402
from sop_pipeline.pack.kpis import KPI_DEFINITIONS, KPI_UNITS  # noqa: E402

DOCS = ROOT / "docs"
MARTS = ("fct_demand_monthly", "dim_products", "fct_inventory_position", "fct_open_supply", "dim_calendar")
REFERENCE_TEXT = {"sku": "must exist in products", "family": "must be a family in products",
                  "supplier": "must exist in suppliers (when given)",
                  "channel": "must be a channel that appears in sales",
                  "scenario": "must be a scenario of the scenario file"}


def _rules(dataset, column) -> list[str]:
    rules = []
    if column.min_value is not None:
        rules.append(f">= {column.min_value:g}")
    if column.max_value is not None:
        rules.append(f"<= {column.max_value:g}")
    if column.allowed:
        rules.append("one of " + ", ".join(f"`{a}`" for a in column.allowed))
    if column.first_of_month:
        rules.append("first day of a month")
    rules += [REFERENCE_TEXT[kind] for name, kind in dataset.references if name == column.name]
    if column.name in dataset.not_after_as_of:
        rules.append("not in the future")
    if column.dtype == DATE and not column.may_predate_history:
        rules.append("not before the earliest date (`SOP_HISTORY_YEARS`)")
    return rules


def inputs_block() -> str:
    lines = []
    for d in DATASETS:
        optional = " *(optional data set)*" if d.optional else ""
        key = ", ".join(f"`{k}`" for k in d.key) or "none (order lines may repeat)"
        lines += [f"#### `{d.name}/`{optional}", "", f"{d.description} Key: {key}.", "",
                  "| column | type | unit | required | description | example |", "|---|---|---|---|---|---|"]
        for c in d.columns:
            required = "yes" if c.required and not c.nullable else ("column yes, may be empty" if c.required else "no")
            rules = _rules(d, c)
            description = c.description + (" Rule: " + "; ".join(rules) + "." if rules else "")
            example = f"`{c.example}`" if c.example else "(empty)"
            lines.append(f"| `{c.name}` | {c.dtype} | {c.unit or '-'} | {required} | {description} | {example} |")
        lines.append("")
    return "\n".join(lines)


def marts_block() -> str:
    lines = []
    for name in MARTS:
        model = yaml.safe_load((ROOT / "dbt_project" / "models" / "marts" / f"{name}.yml").read_text())["models"][0]
        lines += [f"#### `marts.{name}`", "", " ".join(model["description"].split()), "",
                  "| column | meaning |", "|---|---|"]
        lines += [f"| `{c['name']}` | {' '.join(c.get('description', '').split())} |" for c in model["columns"]]
        lines.append("")
    return "\n".join(lines)


def outputs_block() -> str:
    lines, group = [], None
    for table in OUTPUT_TABLES:
        if table.group != group:
            group = table.group
            lines += [f"### {group} (`sop`)", ""]
        lines += [f"#### `sop.{table.name}`", "", table.grain, "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{name}` | {meaning.replace('|', chr(92) + '|')} |" for name, meaning in table.columns.items()]
        lines.append("")
    return "\n".join(lines)


def kpis_block() -> str:
    lines = ["| KPI | unit | formula |", "|---|---|---|"]
    lines += [f"| `{kpi}` | {KPI_UNITS[kpi]} | {formula.replace('|', chr(92) + '|')} |"
              for kpi, formula in KPI_DEFINITIONS.items()]
    return "\n".join(lines) + "\n"


def causes_block() -> str:
    lines = ["| cause | what it is |", "|---|---|"]
    lines += [f"| `{cause}` | {text.replace('|', chr(92) + '|')} |" for cause, text in cause_definitions().items()]
    return "\n".join(lines) + "\n"


# Which generated blocks live in which page of docs/.
PAGES = {
    "inputs.md": ("inputs",),
    "outputs.md": ("marts", "outputs"),
    "pack.md": ("kpis", "causes"),
}
BLOCKS = {"inputs": inputs_block, "marts": marts_block, "outputs": outputs_block, "kpis": kpis_block,
          "causes": causes_block}


def render(text: str, markers: tuple[str, ...]) -> str:
    for marker in markers:
        block = BLOCKS[marker]()
        start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{block}{end}{tail}"
    return text


def main(argv: list[str]) -> int:
    stale = []
    for name, markers in PAGES.items():
        page = DOCS / name
        current = page.read_text()
        rendered = render(current, markers)
        if rendered != current:
            stale.append(name)
            if "--check" not in argv:
                page.write_text(rendered)
    if "--check" in argv and stale:
        print(f"stale generated tables in docs/: {', '.join(stale)} (run `make readme`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
