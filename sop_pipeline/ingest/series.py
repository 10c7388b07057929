"""Turn a long file of monthly series into a landing folder (`sop import-series`): forecast-only data.

Public demand data sets (the M competitions, Tourism, a retailer's item history) are numbers per series
and month, not a brand's exports. Each series becomes a SKU with neutral attributes (one family, price and
cost 1, no lead time, order quantity 1), its known values become one sales line per month in channel
`all`, and its unknown values (an empty `units` cell, or a month without a row between the series' first
month and the file's last) become missing months, never zeros. No stock, purchase orders or suppliers are
written, so `sop run` plans the cycle in forecast-only mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.ingest.contract import DATE, FLOAT, MISSING_MONTHS, PRODUCTS, SALES, STR, Column, Dataset
from sop_pipeline.ingest.validate import (
    READABLE_SUFFIXES,
    Violation,
    landing_files,
    read_dataset_file,
    validate_text,
)

SERIES = Dataset(
    name="series",
    description="Monthly series: one row per series and month.",
    key=("series_id", "month"),
    columns=(
        Column("series_id", STR, "Series identifier; becomes the SKU.", "T1"),
        Column("month", DATE, "Month of the value (first day of month).", "2019-01-01", first_of_month=True),
        Column("units", FLOAT, "Demand of the month; empty when unknown.", "1843.5", unit="units",
               nullable=True, min_value=0),
        Column("family", STR, "Family of the series (default: --family).", "Hotels", required=False, nullable=True),
    ),
)
CHANNEL = "all"
DEFAULT_FAMILY = "All"
# Neutral attributes: a unit is worth 1, so revenue shares (ABC) follow volumes; no lead time and
# order quantities of 1, so nothing about supply is invented.
NEUTRAL_PRODUCT = {"unit_cost": 1.0, "unit_price": 1.0, "supplier": "none", "lead_time_days": 0, "moq": 1,
                   "order_multiple": 1, "status": "active"}


class SeriesError(ValueError):
    """The series file breaks a rule; `violations` name the file, row, column and rule of each."""

    def __init__(self, violations: list[Violation], limit: int = 20):
        self.violations = violations
        lines = [f"{len(violations)} problem(s) in the series file; nothing was written:"]
        lines += [f"  - {v.message()}" for v in violations[:limit]]
        if len(violations) > limit:
            lines.append(f"  … and {len(violations) - limit} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class SeriesImport:
    """What an import wrote: the landing frames and their counts."""

    products: pl.DataFrame
    sales: pl.DataFrame
    missing_months: pl.DataFrame

    @property
    def series(self) -> int:
        return self.products.height

    @property
    def first_month(self) -> date | None:
        return self.products["launch_date"].min()

    @property
    def last_month(self) -> date | None:
        months = pl.concat([self.sales["date"], self.missing_months["month"]])
        return months.max() if months.len() else None

    @property
    def without_values(self) -> list[str]:
        """Series with no known value at all: they have no history to forecast from."""
        return sorted(set(self.products["sku"]) - set(self.sales["sku"]))


def read_series(path: Path, until: date | None = None) -> pl.DataFrame:
    """`series_id, month, units, family` of the file, validated, sorted, and cut before `until`;
    SeriesError names every broken rule."""
    display = str(path)
    text, violations = read_dataset_file(path, display, SERIES)
    if text is None:
        raise SeriesError(violations)
    if text.is_empty():  # a header alone: refused here rather than written as an empty landing folder
        raise SeriesError([Violation(display, None, "*", "file has no rows: expected one row per series and month",
                                     None)])
    typed, violations = validate_text(SERIES, text, known={}, as_of=date.max)  # no series date is 'future'
    violations += _family_changes(typed, display)
    if violations:
        raise SeriesError(sorted(violations, key=lambda v: (v.row or 0, v.column, v.rule)))
    frame = typed.select("series_id", "month", "units", "family")
    if until is not None:
        frame = frame.filter(pl.col("month") < until)
    return frame.sort("series_id", "month")


def _family_changes(typed: pl.DataFrame, display: str) -> list[Violation]:
    """A series keeps one family: every row naming another family than the series' first is a violation."""
    named = typed.filter(pl.col("family").is_not_null()).sort("_source_row")
    first = named.group_by("series_id").agg(pl.col("family").first().alias("_first"))
    changed = named.join(first, on="series_id").filter(pl.col("family") != pl.col("_first"))
    return [
        Violation(display, row, "family", f"a series keeps one family (series {series_id!r} is {first_family!r})",
                  family)
        for series_id, row, family, first_family in changed.select("series_id", "_source_row", "family", "_first")
        .iter_rows()
    ]


def series_to_landing(series: pl.DataFrame, source_name: str, family: str = DEFAULT_FAMILY) -> SeriesImport:
    """The landing frames of validated series (`read_series`): products, sales and missing months, sorted."""
    if series.is_empty():
        raise ValueError(f"{source_name} holds no month to import (before --until, if given)")
    spans = series.group_by("series_id").agg(
        pl.col("month").min().alias("launch_date"),
        pl.col("family").drop_nulls().first().fill_null(family).alias("family"),
    )
    last = series["month"].max()
    products = spans.select(
        pl.col("series_id").alias("sku"), pl.col("series_id").alias("name"), "family",
        *(pl.lit(value).alias(name) for name, value in NEUTRAL_PRODUCT.items()),
        "launch_date", pl.lit(None, dtype=pl.Date).alias("discontinue_date"),
    )
    known = series.filter(pl.col("units").is_not_null())
    sales = known.select(
        pl.col("month").alias("date"), pl.col("series_id").alias("sku"), pl.lit(CHANNEL).alias("channel"),
        pl.col("units").alias("quantity"), (pl.col("units") * NEUTRAL_PRODUCT["unit_price"]).alias("net_revenue"),
        pl.lit(None, dtype=pl.String).alias("customer"), pl.lit(None, dtype=pl.String).alias("order_id"),
    )
    # Every month of a series' span without a known value is unknown: an empty cell, or no row at all.
    grid = spans.select("series_id", pl.date_ranges("launch_date", pl.lit(last), interval="1mo").alias("month"))
    empty = series.filter(pl.col("units").is_null()).select(
        "series_id", "month", pl.lit(f"missing in {source_name}").alias("reason"))
    absent = grid.explode("month").join(series, on=["series_id", "month"], how="anti").with_columns(
        pl.lit(f"no row in {source_name}").alias("reason"))
    missing = pl.concat([empty, absent]).select(pl.col("series_id").alias("sku"), "month", "reason")
    return SeriesImport(
        products=products.select(PRODUCTS.column_names).sort("sku"),
        sales=sales.select(SALES.column_names).sort("sku", "date"),
        missing_months=missing.select(MISSING_MONTHS.column_names).sort("sku", "month"),
    )


def write_landing(result: SeriesImport, out_dir: Path) -> dict[str, Path]:
    """Write the three data sets as `out_dir/<name>/<name>.csv` (other data sets in `out_dir` are kept);
    refuse when one of those folders holds another file that would be read along with it."""
    frames = {PRODUCTS: result.products, SALES: result.sales, MISSING_MONTHS: result.missing_months}
    strays = [
        path for dataset in frames for path in landing_files(out_dir, dataset)
        if path.name != f"{dataset.name}.csv"
    ]
    if strays:
        raise ValueError(
            f"{out_dir} holds other {'/'.join(READABLE_SUFFIXES)} files that would be read with the import: "
            + ", ".join(str(p.relative_to(out_dir)) for p in sorted(strays)) + "; remove them or choose another --out"
        )
    written = {}
    for dataset, frame in frames.items():
        target = out_dir / dataset.name / f"{dataset.name}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(target, date_format="%Y-%m-%d", null_value="")
        written[dataset.name] = target
    return written


def import_series(path: Path, out_dir: Path, family: str = DEFAULT_FAMILY, until: date | None = None) -> SeriesImport:
    """Read, validate and convert a series file, and write its landing folder."""
    result = series_to_landing(read_series(path, until), path.name, family)
    write_landing(result, out_dir)
    return result


def next_cycle(result: SeriesImport) -> date | None:
    """The cycle that plans right after the last month of the series."""
    return add_months(result.last_month, 1) if result.last_month else None
