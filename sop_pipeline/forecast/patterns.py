"""Demand patterns by ADI and CV² (Syntetos, Boylan & Croston 2005): which kind of series a SKU is.

ADI is the average interval between months with demand; CV² the squared coefficient of variation of
the non-zero demands. The cut-offs 1.32 and 0.49 split series into four patterns, each with methods
that suit it: `smooth` (regular, steady), `erratic` (regular, volatile sizes), `intermittent` (many
empty months, steady sizes) and `lumpy` (many empty months, volatile sizes). Intermittent and lumpy
series are where Croston-type methods (Croston SBA, TSB, ADIDA) and a Tweedie objective earn their
place; on smooth series they only lag.
"""

from __future__ import annotations

import polars as pl

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
INTERMITTENT_PATTERNS = ("intermittent", "lumpy")
NEW_SKU_MONTHS = 6  # fewer months of history than this and a SKU is forecast as new


def demand_patterns(series: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU: `sku, months_of_history, adi, cv2, pattern`.

    `series` holds `sku, month, units` with every month of each SKU's life (as `monthly_history`
    gives; null units are unknown months and are left out). A SKU that never sold has an infinite ADI
    and is `intermittent`; CV² of a single non-zero month is 0.
    """
    known = series.filter(pl.col("units").is_not_null() & ~pl.col("units").is_nan())
    stats = known.group_by("sku").agg(
        pl.len().alias("months_of_history"),
        (pl.col("units") > 0).sum().alias("_demand_months"),
        pl.col("units").filter(pl.col("units") > 0).mean().alias("_mean"),
        pl.col("units").filter(pl.col("units") > 0).std(ddof=0).alias("_std"),
    )
    adi = pl.when(pl.col("_demand_months") > 0).then(pl.col("months_of_history") / pl.col("_demand_months"))
    cv2 = (pl.col("_std") / pl.col("_mean")).pow(2).fill_null(0.0)
    return (
        stats.with_columns(adi.fill_null(float("inf")).alias("adi"), cv2.alias("cv2"))
        .with_columns(
            pl.when(pl.col("adi") <= ADI_CUTOFF)
            .then(pl.when(pl.col("cv2") <= CV2_CUTOFF).then(pl.lit("smooth")).otherwise(pl.lit("erratic")))
            .otherwise(pl.when(pl.col("cv2") <= CV2_CUTOFF).then(pl.lit("intermittent")).otherwise(pl.lit("lumpy")))
            .alias("pattern")
        )
        .select("sku", pl.col("months_of_history").cast(pl.Int32), "adi", "cv2", "pattern")
        .sort("sku")
    )
