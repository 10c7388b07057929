"""The decision log of the S&OP meetings (SPEC §6): what was decided, by whom, by when, and whether it was done.

Decisions live in the landing folder's `decisions/` data set, so a planner can keep them in a spreadsheet
and a run validates them like every other input. `sop decide` writes the same file
(`decisions/decisions.csv`): it adds a decision or updates one, checks the whole log against the contract
first, and replaces the file in one rename, so a bad entry changes nothing.

Each cycle publishes the log as it stands (`sop.decisions`): the decisions taken up to that cycle, with the
status the log gives them now, whether they are overdue at the cycle's start, and which ones the previous
cycle's meeting took, so that the next meeting starts by following them up.
"""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.ingest.contract import DECISIONS, PRODUCTS

LOG_FILE = "decisions.csv"
FINISHED = ("done", "dropped")

DECISIONS_SCHEMA = {
    "cycle": pl.Date, "decision_id": pl.String, "decided_cycle": pl.Date, "decision": pl.String,
    "owner": pl.String, "due_date": pl.Date, "status": pl.String, "sku": pl.String, "family": pl.String,
    "exception_type": pl.String, "is_overdue": pl.Boolean, "is_from_last_cycle": pl.Boolean,
}


def decision_log(decisions: pl.DataFrame, cycle: date) -> pl.DataFrame:
    """The log as of `cycle`: decisions taken at or before it, overdue when not finished and due before it."""
    frame = decisions.filter(pl.col("cycle") <= cycle)
    return frame.select(
        pl.lit(cycle).alias("cycle"),
        "decision_id",
        pl.col("cycle").alias("decided_cycle"),
        "decision", "owner", "due_date", "status", "sku", "family", "exception_type",
        (~pl.col("status").is_in(FINISHED) & (pl.col("due_date") < cycle)).fill_null(False).alias("is_overdue"),
        (pl.col("cycle") == add_months(cycle, -1)).alias("is_from_last_cycle"),
    ).cast(DECISIONS_SCHEMA).sort("decided_cycle", "decision_id")


def follow_up(log: pl.DataFrame) -> dict[str, int]:
    """How last cycle's decisions stand: taken, done, dropped, still open and overdue among those open."""
    last = log.filter(pl.col("is_from_last_cycle"))
    open_ = last.filter(~pl.col("status").is_in(FINISHED))
    return {"taken": last.height, "done": int((last["status"] == "done").sum()),
            "dropped": int((last["status"] == "dropped").sum()), "open": open_.height,
            "overdue": int(open_["is_overdue"].sum())}


# --- `sop decide` ------------------------------------------------------------------------------------------

FIELDS = [c.name for c in DECISIONS.columns]


def _read_text(path: Path) -> pl.DataFrame:
    if not path.exists():
        return pl.DataFrame(schema={name: pl.String for name in FIELDS})
    frame = pl.read_csv(path, infer_schema=False)
    return frame.with_columns(pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, pl.String)
                              .alias(name) for name in FIELDS).select(FIELDS)


def _next_id(existing: list[str], cycle: str) -> str:
    prefix = f"D-{cycle[:7]}-"
    taken = {i for i in existing if i and i.startswith(prefix)}
    number = 1
    while f"{prefix}{number:02d}" in taken:
        number += 1
    return f"{prefix}{number:02d}"


def write_decision(landing: Path, as_of: date, changes: dict[str, str | None], decision_id: str | None = None) -> str:
    """Add a decision to the log (no `decision_id`), or change the given fields of one; return its id.

    The whole log, with the change, is checked against the contract (against the landing folder's products
    for SKUs and families) before the file is replaced; a violation raises ValueError naming the file, row
    and column, and the log stays as it was."""
    from sop_pipeline.ingest.validate import (
        _known_values,
        landing_files,
        load_dataset,
        read_file_as_text,
        validate_text,
    )

    folder = landing / DECISIONS.name
    own = folder / LOG_FILE
    others = [p for p in landing_files(landing, DECISIONS) if p.resolve() != own.resolve()]
    log = _read_text(own)
    changes = {k: v for k, v in changes.items() if v is not None}
    if decision_id is None:
        if not changes.get("cycle"):
            raise ValueError("a new decision needs --cycle (the meeting's cycle)")
        everything = log["decision_id"].to_list() + [
            i for p in others for i in read_file_as_text(p, p.name)["decision_id"].to_list()]
        decision_id = _next_id(everything, changes["cycle"])
        row = {name: changes.get(name) for name in FIELDS} | {"decision_id": decision_id,
                                                               "status": changes.get("status") or "open"}
        log = pl.concat([log, pl.DataFrame([row], schema={name: pl.String for name in FIELDS})], how="vertical")
    else:
        if decision_id not in log["decision_id"].to_list():
            where = next((p for p in others if decision_id in read_file_as_text(p, p.name)["decision_id"].to_list()),
                         None)
            raise ValueError(f"decision {decision_id} is not in {own}" + (
                f": it is in {where}, edit it there" if where else ": no decision has that id"))
        log = log.with_columns(
            pl.when(pl.col("decision_id") == decision_id).then(pl.lit(value)).otherwise(pl.col(name)).alias(name)
            for name, value in changes.items())
    buffer = io.BytesIO()
    log.select(FIELDS).write_csv(buffer)
    data = buffer.getvalue()
    products, product_errors = load_dataset(landing, PRODUCTS, {}, as_of)
    display = f"{DECISIONS.name}/{LOG_FILE}"
    texts = [read_file_as_text(own, display, data=data)] + [read_file_as_text(p, f"{DECISIONS.name}/{p.name}")
                                                           for p in others]
    _, violations = validate_text(DECISIONS, pl.concat(texts, how="diagonal"), _known_values({"products": products}),
                                  as_of)
    if violations:
        raise ValueError("the decision log would break the input contract; nothing was written:\n"
                         + "\n".join(f"  {v.message()}" for v in violations))
    if product_errors:
        raise ValueError(f"{landing}/products does not meet the contract; run `sop validate` first")
    folder.mkdir(parents=True, exist_ok=True)
    staged = own.with_name(f".{own.name}.staged")
    staged.write_bytes(data)
    os.replace(staged, own)
    return decision_id
