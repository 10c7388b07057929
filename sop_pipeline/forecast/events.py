"""Events as the forecast sees them: each SKU and month's uplift from the landed events, weighted by the
SKU's channel mix. The global model reads it as a feature, the consensus adds it to the other methods
(sop_pipeline.plan.consensus; the rules an event follows: docs/plan.md, *The consensus rules*).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from sop_pipeline.cycle import add_months, months_between

SHARE_MONTHS = 12

SHARES_SCHEMA = {"sku": pl.String, "channel": pl.String, "share": pl.Float64}
EVENT_UPLIFT_SCHEMA = {"sku": pl.String, "month": pl.Date, "uplift": pl.Float64, "event_ids": pl.String}
EVENTS_SCHEMA = {
    "event_id": pl.String, "sku": pl.String, "family": pl.String, "channel": pl.String,
    "start_date": pl.Date, "end_date": pl.Date, "uplift_pct": pl.Float64,
}


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`frame` reduced to `schema`, cast; a missing optional column (or an empty, column-less frame) is null."""
    return frame.select(
        [pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
         for name, dtype in schema.items()]
    )


def _shares(units: pl.DataFrame) -> pl.DataFrame:
    by_channel = units.group_by("sku", "channel").agg(pl.col("units").sort().sum())
    return (
        by_channel.with_columns(pl.col("units").sort().sum().over("sku").alias("_total"))
        .filter(pl.col("_total") > 0)
        .select("sku", "channel", (pl.col("units") / pl.col("_total")).alias("share"))
    )


def channel_shares(history: pl.DataFrame, cycle: date, months: int = SHARE_MONTHS) -> pl.DataFrame:
    """One row per SKU and channel it sold through: `sku, channel, share`, the SKU's shares summing to 1.

    Shares of units over the `months` months before `cycle`; a SKU that sold nothing in that window takes
    the shares of its whole history before `cycle`, and a SKU that never sold is absent.
    """
    past = history.filter(pl.col("month") < cycle).select(
        pl.col("sku").cast(pl.String), pl.col("channel").cast(pl.String), "month",
        pl.col("units").cast(pl.Float64),
    )
    recent = _shares(past.filter(pl.col("month") >= add_months(cycle, -months)))
    whole = _shares(past).join(recent, on="sku", how="anti")
    return pl.concat([recent, whole]).cast(SHARES_SCHEMA).sort("sku", "channel")


def cycle_event_uplift(
    history: pl.DataFrame, events: pl.DataFrame, products: pl.DataFrame, cycle: date, months: Sequence[date]
) -> pl.DataFrame:
    """`monthly_event_uplift` with the channel mix of the 12 months before `cycle`: what the forecast
    stage (the global model's feature, the consensus backtest) and the demand plan all use."""
    return monthly_event_uplift(events, products, channel_shares(history, cycle), months)


def origin_event_uplift(
    history: pl.DataFrame, events: pl.DataFrame, products: pl.DataFrame, origin: date, horizon: int
) -> pl.DataFrame:
    """`cycle_event_uplift` as a planner at `origin` would have computed it: channel mix from the months
    before `origin`, every month from the history's first to `horizon` months after `origin`. A backtest
    fold and a replayed month read this, so no month after their origin shapes them, and a fold computed
    at one cycle is the same fold at the next (it is cached under its inputs: sop_pipeline.forecast.folds)."""
    known = history.filter(pl.col("month") < origin)
    if known.is_empty() or events.is_empty():
        return pl.DataFrame(schema=EVENT_UPLIFT_SCHEMA)
    first = known["month"].min()
    months = [add_months(first, i) for i in range(months_between(first, origin) + horizon)]
    return cycle_event_uplift(known, events, products, origin, months)


def monthly_event_uplift(
    events: pl.DataFrame,
    products: pl.DataFrame,
    shares: pl.DataFrame,
    months: Sequence[date],
) -> pl.DataFrame:
    """One row per SKU and month of `months` touched by an event: `sku, month, uplift, event_ids`.

    `uplift` is the fraction added to the month's demand (0.1 = +10 %), the sum of the events' channel-
    weighted uplifts; `event_ids` lists them, sorted, joined by ', '. `products` gives each SKU's family,
    `shares` comes from `channel_shares`. Also the global model's event feature (`sku, month, uplift`).
    """
    if events.is_empty() or not months:
        return pl.DataFrame(schema=EVENT_UPLIFT_SCHEMA)
    listed = conform(events, EVENTS_SCHEMA)
    families = products.select(pl.col("sku").cast(pl.String), pl.col("family").cast(pl.String)).unique()
    columns = list(EVENTS_SCHEMA)
    targeted = pl.concat([
        listed.filter(pl.col("sku").is_not_null()),
        listed.filter(pl.col("sku").is_null()).drop("sku").join(families, on="family", how="inner").select(columns),
    ])
    calendar = pl.DataFrame({"month": sorted(set(months))}, schema={"month": pl.Date})
    in_month = targeted.join(calendar, how="cross").filter(
        (pl.col("start_date") <= pl.col("month").dt.month_end()) & (pl.col("end_date") >= pl.col("month"))
    )
    shares = conform(shares, SHARES_SCHEMA)
    n_channels = max(shares["channel"].n_unique(), 1)
    with_history = shares.select("sku").unique().with_columns(pl.lit(True).alias("_has_history"))
    weight = (
        pl.when(pl.col("channel").is_null()).then(1.0)
        .when(pl.col("_has_history")).then(pl.col("share").fill_null(0.0))
        .otherwise(1.0 / n_channels)
    )
    weighted = (
        in_month.join(shares, on=["sku", "channel"], how="left")
        .join(with_history, on="sku", how="left")
        .with_columns(weight.alias("_weight"))
        .filter(pl.col("_weight") > 0)
    )
    return (
        weighted.group_by("sku", "month")
        .agg(
            (pl.col("uplift_pct") * pl.col("_weight")).sort().sum().alias("uplift"),
            pl.col("event_id").unique().sort().str.join(", ").alias("event_ids"),
        )
        .cast(EVENT_UPLIFT_SCHEMA)
        .sort("sku", "month")
    )
