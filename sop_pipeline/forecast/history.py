"""Monthly demand history per SKU, cut at a forecast origin, the form every forecaster starts from.

The fact base has one row per SKU × channel × month; forecasts are made per SKU (SPEC §2), so channels
are summed here, once, for every model.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months


def lag_expr(origin: date, month: str = "month") -> pl.Expr:
    """The forecast lag of `month` seen from `origin`: 1 for the origin's own month."""
    return (
        (pl.col(month).dt.year().cast(pl.Int32) - origin.year) * 12
        + pl.col(month).dt.month().cast(pl.Int32)
        - origin.month
        + 1
    )


def monthly_history(history: pl.DataFrame, origin: date) -> pl.DataFrame:
    """One row per SKU and month before `origin`: `sku, month, units, is_stockout`, channels summed.

    Every SKU is zero-filled from its first month up to the month before the origin: a SKU without a
    row in a recent month sold nothing then, and every series must end at the same month so that
    forecasts of all SKUs start at the origin. A month whose sales are unknown (a row with null units,
    or `is_missing` set) stays null: unknown is not zero.
    """
    frame = history.filter(pl.col("month") < origin)
    if "is_stockout" not in frame.columns:
        frame = frame.with_columns(pl.lit(False).alias("is_stockout"))
    unknown = pl.col("units").is_null()
    if "is_missing" in frame.columns:
        unknown = unknown | pl.col("is_missing").fill_null(False)
    frame = frame.with_columns(unknown.alias("_unknown")).group_by("sku", "month").agg(
        pl.when(pl.col("_unknown").any()).then(None).otherwise(pl.col("units").sort().sum()).cast(pl.Float64).alias("units"),
        pl.col("is_stockout").any(),
    )
    if frame.is_empty():
        return pl.DataFrame(
            schema={"sku": pl.String, "month": pl.Date, "units": pl.Float64, "is_stockout": pl.Boolean}
        )
    last = add_months(origin, -1)
    grid = (
        frame.group_by("sku")
        .agg(pl.col("month").min().alias("first"))
        .with_columns(pl.date_ranges("first", pl.lit(last), interval="1mo").alias("month"))
        .explode("month")
        .select("sku", "month")
    )
    return (
        grid.join(frame.with_columns(pl.lit(True).alias("_row")), on=["sku", "month"], how="left")
        .with_columns(
            pl.when(pl.col("_row").is_null()).then(0.0).otherwise(pl.col("units")).alias("units"),
            pl.col("is_stockout").fill_null(False),
        )
        .drop("_row")
        .sort("sku", "month")
    )


def impute_stockouts(series: pl.DataFrame, window: int = 3) -> pl.DataFrame:
    """Replace the units of stockout months by an estimate of the demand that could not be served.

    Sales in a stockout month are censored: they show what was on the shelf, not what customers
    wanted, and a model fitted on them learns to forecast the shortage again. The estimate is the mean
    of the SKU's non-stockout months within `window` months either side; it never goes below what was
    actually sold, and a month with no uncensored neighbour keeps its observed units.

    An unknown month (null units) gets the same estimate; with no known neighbour it stays null, and
    `fill_unknown` decides what a model that cannot read gaps sees there.
    """
    clean = pl.when(~pl.col("is_stockout")).then(pl.col("units"))
    span = 2 * window + 1
    estimate = clean.rolling_mean(span, min_samples=1, center=True).over("sku", order_by="month")
    return series.with_columns(
        pl.when(pl.col("is_stockout"))
        .then(pl.max_horizontal(pl.col("units"), estimate.fill_null(pl.col("units"))))
        .when(pl.col("units").is_null())
        .then(estimate)
        .otherwise(pl.col("units"))
        .alias("units")
    )


def fill_unknown(series: pl.DataFrame) -> pl.DataFrame:
    """Unknown months still null after `impute_stockouts` carry the SKU's last known level (its next
    known one before the first): for the classical models, which need a value in every month. A SKU
    with no known month at all is dropped."""
    filled = series.with_columns(pl.col("units").forward_fill().backward_fill().over("sku", order_by="month"))
    return filled.filter(pl.col("units").is_not_null())
