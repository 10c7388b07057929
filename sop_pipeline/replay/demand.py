"""What the replay holds fixed for every policy: the demand that happened (stockout and unknown months
estimated as the forecast does), and each SKU's ABC class as classified at a past month (docs/replay.md)."""

from __future__ import annotations

from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.history import impute_stockouts, monthly_history

DEMAND_SCHEMA = {"sku": pl.String, "month": pl.Date, "demand": pl.Float64, "is_estimated": pl.Boolean}
ABC_MONTHS = 12


def actual_demand(history: pl.DataFrame, until: date) -> pl.DataFrame:
    """One row per SKU and month of its life before `until`: `sku, month, demand, is_estimated` (DEMAND_SCHEMA).

    `history` is the fact base (`sku, month, units`, optionally `channel`, `is_stockout`, `is_missing`).
    """
    series = monthly_history(history, until)
    if series.is_empty():
        return pl.DataFrame(schema=DEMAND_SCHEMA)
    imputed = impute_stockouts(series).select("sku", "month", pl.col("units").alias("_estimate"))
    return (
        series.join(imputed, on=["sku", "month"], how="left")
        .select(
            "sku", "month",
            pl.col("_estimate").fill_null(0.0).alias("demand"),
            (pl.col("is_stockout") | pl.col("units").is_null()).alias("is_estimated"),
        )
        .cast(DEMAND_SCHEMA)
        .sort("sku", "month")
    )


def unknown_months(history: pl.DataFrame, until: date) -> pl.DataFrame:
    """`sku, month` of the months before `until` whose sales are unknown and that no neighbour estimates."""
    series = monthly_history(history, until)
    if series.is_empty():
        return series.select("sku", "month")
    imputed = impute_stockouts(series)
    return imputed.filter(pl.col("units").is_null()).select("sku", "month").sort("sku", "month")


def abc_classes(history: pl.DataFrame, skus: pl.Series, month: date, a_share: float, b_share: float) -> pl.DataFrame:
    """`sku, abc_class` of every SKU in `skus` as classified at `month`, from the net revenue of the 12
    months before it (the rule of the dbt model `int_products_abc_classified`). `history` holds `sku, month,
    net_revenue`."""
    window = history.filter((pl.col("month") >= add_months(month, -ABC_MONTHS)) & (pl.col("month") < month))
    revenue = window.group_by("sku").agg(pl.col("net_revenue").sort().sum().alias("revenue"))
    frame = (
        pl.DataFrame({"sku": skus.unique().sort()}, schema={"sku": pl.String})
        .join(revenue, on="sku", how="left")
        .with_columns(pl.col("revenue").fill_null(0.0).cast(pl.Float64))
        .sort(["revenue", "sku"], descending=[True, False])
    )
    total = float(frame["revenue"].sum())
    before, classes = 0.0, []
    for revenue in frame["revenue"]:
        share = before / total if total > 0 else 0.0
        classes.append("C" if revenue <= 0 else "A" if share < a_share else "B" if share < b_share else "C")
        before += revenue
    return frame.select("sku").with_columns(pl.Series("abc_class", classes, dtype=pl.String)).sort("sku")
