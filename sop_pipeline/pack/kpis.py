"""The KPI history of the S&OP process (SPEC §10): how well the plans and the stock have done, month by month.

Each run recomputes the whole history as of its cycle, from the locked plans and the fact base; a ratio is
null when its denominator is 0. Design notes: docs/pack.md, *KPI definitions*.

The formulas, one line a KPI (`KPI_DEFINITIONS`, also rendered in docs/pack.md):
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from sop_pipeline.forecast.history import impute_stockouts, monthly_history
from sop_pipeline.forecast.metrics import error_sums, ratios
from sop_pipeline.plan.accuracy import PLAN_VS_ACTUAL_SCHEMA
from sop_pipeline.warehouse import fetch_frame, qualified, table_columns

KPI_DEFINITIONS: dict[str, str] = {
    "wmape": "Σ|consensus − actual| / Σ actual over the SKUs of the month, for the plan locked `lag` − 1 months "
             "before it; stockout months and SKUs without a naive value left out.",
    "bias": "Σ(consensus − actual) / Σ actual on the same rows as `wmape`: positive means the plan was too high.",
    "fva_vs_naive": "WMAPE(naive) − WMAPE(consensus) on the same rows as `wmape`: positive means the plan beat a "
                    "naive guess (last month's demand before the plan).",
    "fill_rate": "units sold / estimated demand of the month over all SKUs; a stockout month's demand is estimated "
                 "as the forecast's history does (mean of the SKU's uncensored months within 3 months either side, "
                 "never below sales); SKU-months whose sales are unknown left out.",
    "inventory_turns": "COGS of the 12 months ending at the month (units sold × current unit cost) / mean month-end "
                       "stock at current cost over those months; months without a stock count left out, and with 3 "
                       "to 11 months left the COGS is annualised (× 12 / months); fewer than 3: no value.",
    "days_of_cover": "month-end stock at current cost / (COGS of the 3 months ending at the month / days in those "
                     "months); fewer months at the start of the fact base.",
    "excess_value": "Σ over SKUs of max(0, month-end stock − SOP_EXCESS_COVER_MONTHS × mean monthly units sold "
                    "over the SKU's months of the 3 ending at the month) × current unit cost; SKUs counted in "
                    "`obsolete_value` left out, as in the supply status.",
    "obsolete_value": "month-end stock at current cost of the SKUs whose discontinue_date is on or before the "
                      "month's last day.",
    "plan_stability": "Σ|change_vs_previous| / Σ previous_plan over the frozen months of the plan locked at the "
                      "cycle (current version) that the previous plan also covered; null without a previous plan.",
}

if __doc__ is not None:
    __doc__ += "".join(f"\n- `{kpi}`: {formula}" for kpi, formula in KPI_DEFINITIONS.items()) + "\n"

KPI_HISTORY_SCHEMA = {
    "cycle": pl.Date,
    "period": pl.Date,
    "kpi": pl.String,
    "lag": pl.Int32,
    "value": pl.Float64,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "unit": pl.String,
    "source": pl.String,
    "plan_cycle": pl.Date,
}

PLAN_LAGS = (1, 3)
FACTS, LOCKED_PLANS = "facts", "locked plans"
KPI_UNITS = {
    "wmape": "ratio",
    "bias": "ratio",
    "fva_vs_naive": "ratio",
    "fill_rate": "ratio",
    "inventory_turns": "turns",
    "days_of_cover": "days",
    "excess_value": "money",
    "obsolete_value": "money",
    "plan_stability": "ratio",
}
TURNS_MONTHS, TURNS_MIN_MONTHS, COVER_MONTHS = 12, 3, 3
# The steps plan_accuracy scores on one set of rows: a SKU-month lacking any of them is not scored.
_SCORED_STEPS = ("naive", "forecast", "consensus")

_PART = ["period", "kpi", "lag", "value", "numerator", "denominator", "plan_cycle"]
DEMAND_PLAN_COLUMNS = {
    "plan_cycle": pl.Date,
    "sku": pl.String,
    "month": pl.Date,
    "is_current": pl.Boolean,
    "time_fence": pl.String,
    "previous_plan": pl.Float64,
    "change_vs_previous": pl.Float64,
}


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator != 0).then(numerator / denominator)


def _sum(expr: pl.Expr) -> pl.Expr:
    # Sorted first: a float sum's last bit depends on the order it adds in.
    return expr.sort().sum()


def _part(frame: pl.DataFrame, kpi: str) -> pl.DataFrame:
    """`frame` (`period, value, numerator, denominator`, and `lag`, `plan_cycle` where the KPI has them) as
    rows of the KPI `kpi`; a column it lacks is null."""
    return frame.select(
        pl.col("period").cast(pl.Date),
        pl.lit(kpi, dtype=pl.String).alias("kpi"),
        *(
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(KPI_HISTORY_SCHEMA[name]).alias(name)
            for name in _PART[2:]
        ),
    )


def _windowed(frame: pl.DataFrame, months: int) -> pl.DataFrame:
    """`frame` (with `month`) repeated once for each `period` whose window of `months` months ending at it
    holds the row's month."""
    return pl.concat(
        [frame.with_columns(pl.col("month").dt.offset_by(f"{k}mo").alias("period")) for k in range(months)]
    )


def plan_kpis(plan_vs_actual: pl.DataFrame) -> pl.DataFrame:
    """`wmape`, `bias` and `fva_vs_naive` of the consensus, one row per month and lag of `PLAN_LAGS`.

    `plan_vs_actual` is the cycle's `sop.plan_vs_actual` (`PLAN_VS_ACTUAL_SCHEMA`). A month and lag
    belong to one plan (plan_cycle = month − (lag − 1)), so each row is the plan scorecard's `total` row
    of that plan and lag.
    """
    rows = plan_vs_actual.filter(
        pl.col("lag").is_in(PLAN_LAGS), pl.all_horizontal(pl.col(step).is_not_null() for step in _SCORED_STEPS)
    )
    long = pl.concat(
        [
            rows.select(
                pl.col("month").alias("period"), "plan_cycle", "lag", "actual", "is_stockout",
                pl.lit(step).alias("method"), pl.col(step).cast(pl.Float64).alias("forecast"),
            )
            for step in ("naive", "consensus")
        ]
    )
    keys = ["period", "plan_cycle", "method", "lag"]
    # `error_sums` leaves the stockout months out; `ratios` nulls a ratio without demand.
    sums = error_sums(long, by=keys)
    scores = sums.join(ratios(sums, keys).select(*keys, "wmape", "bias"), on=keys)
    index = ["period", "plan_cycle", "lag"]
    naive = scores.filter(pl.col("method") == "naive").select(
        *index, pl.col("abs_error").alias("naive_abs_error"), pl.col("wmape").alias("naive_wmape")
    )
    consensus = scores.filter(pl.col("method") == "consensus").join(naive, on=index, validate="1:1")
    return pl.concat(
        [
            _part(consensus.select(*index, pl.col("wmape").alias("value"), pl.col("abs_error").alias("numerator"),
                                   pl.col("actual_units").alias("denominator")), "wmape"),
            _part(consensus.select(*index, pl.col("bias").alias("value"), pl.col("error").alias("numerator"),
                                   pl.col("actual_units").alias("denominator")), "bias"),
            _part(consensus.select(*index, (pl.col("naive_wmape") - pl.col("wmape")).alias("value"),
                                   (pl.col("naive_abs_error") - pl.col("abs_error")).alias("numerator"),
                                   pl.col("actual_units").alias("denominator")), "fva_vs_naive"),
        ]
    )


def plan_stability(demand_plan: pl.DataFrame, cycle: date) -> pl.DataFrame:
    """`plan_stability` of every plan locked up to `cycle`, one row per plan cycle (its period).

    `demand_plan` holds `DEMAND_PLAN_COLUMNS` (the table `sop.demand_plan` with its `cycle` as
    `plan_cycle`); only current versions count. A plan without a frozen month its previous plan covered
    has a row with a null value, numerator and denominator.
    """
    plans = demand_plan.filter(pl.col("is_current"), pl.col("plan_cycle") <= cycle)
    compared = (pl.col("time_fence") == "frozen") & pl.col("previous_plan").is_not_null()
    sums = plans.group_by("plan_cycle").agg(
        pl.when(compared.any()).then(_sum(pl.col("change_vs_previous").filter(compared).abs())).alias("numerator"),
        pl.when(compared.any()).then(_sum(pl.col("previous_plan").filter(compared))).alias("denominator"),
    )
    value = _ratio(pl.col("numerator"), pl.col("denominator"))
    return _part(sums.with_columns(pl.col("plan_cycle").alias("period"), value.alias("value")), "plan_stability")


def _sku_months(demand: pl.DataFrame, cycle: date) -> pl.DataFrame:
    """One row per SKU and month of the fact base before `cycle`: `sku, month, sold, demand` (channels
    summed; both null when the month's sales are unknown; `demand` is `sold` with stockout months
    estimated as the forecast's history estimates them)."""
    history = monthly_history(demand, cycle)
    estimated = impute_stockouts(history).select("sku", "month", pl.col("units").alias("demand"))
    return history.join(estimated, on=["sku", "month"], validate="1:1").select(
        "sku", "month", pl.col("units").alias("sold"),
        pl.when(pl.col("units").is_not_null()).then(pl.col("demand")).alias("demand"),
    )


def fill_rate(sku_months: pl.DataFrame) -> pl.DataFrame:
    """`fill_rate` of each month with known sales: units sold / estimated demand."""
    known = sku_months.filter(pl.col("sold").is_not_null())
    sums = known.group_by(pl.col("month").alias("period")).agg(
        _sum(pl.col("sold")).alias("numerator"), _sum(pl.col("demand")).alias("denominator")
    )
    return _part(sums.with_columns(_ratio(pl.col("numerator"), pl.col("denominator")).alias("value")), "fill_rate")


def _stock_at_cost(stock: pl.DataFrame, products: pl.DataFrame, cycle: date) -> pl.DataFrame:
    """One row per SKU and month with a stock count before `cycle`: `sku, month, on_hand, unit_cost, value,
    discontinue_date`."""
    return (
        stock.filter(pl.col("month") < cycle)
        .select(pl.col("sku").cast(pl.String), pl.col("month").cast(pl.Date), pl.col("on_hand").cast(pl.Float64))
        .join(_costs(products), on="sku", how="left", validate="m:1")
        .with_columns((pl.col("on_hand") * pl.col("unit_cost")).alias("value"))
    )


def _costs(products: pl.DataFrame) -> pl.DataFrame:
    return products.select(
        pl.col("sku").cast(pl.String), pl.col("unit_cost").cast(pl.Float64), pl.col("discontinue_date").cast(pl.Date)
    )


def stock_kpis(
    sku_months: pl.DataFrame,
    stock: pl.DataFrame,
    products: pl.DataFrame,
    cycle: date,
    excess_cover_months: float,
) -> pl.DataFrame:
    """`inventory_turns`, `days_of_cover`, `excess_value` and `obsolete_value` of each month of the fact
    base with a stock count (`sku_months` from the fact base, `stock`: `sku, month, on_hand` month-end
    counts, `products`: `sku, unit_cost, discontinue_date`)."""
    fact_months = sku_months.select(pl.col("month").unique())
    stocked = _stock_at_cost(stock, products, cycle).join(fact_months, on="month", how="semi")
    if stocked.is_empty():
        return pl.DataFrame(schema={name: KPI_HISTORY_SCHEMA[name] for name in _PART})

    cogs = (
        sku_months.join(_costs(products), on="sku", how="left", validate="m:1")
        .group_by("month")
        .agg(_sum(pl.col("sold") * pl.col("unit_cost")).alias("cogs"))
    )
    stock_value = stocked.group_by("month").agg(_sum(pl.col("value")).alias("stock_value"))
    periods = stock_value.select(pl.col("month").alias("period"), "stock_value")

    # Turns average the month-end stock, so only months with a count are in the window, for COGS too.
    turns = (
        _windowed(cogs.join(stock_value, on="month"), TURNS_MONTHS)
        .group_by("period")
        .agg(_sum(pl.col("cogs")).alias("cogs"), _sum(pl.col("stock_value")).alias("stock_sum"), pl.len().alias("n"))
        .join(periods.select("period"), on="period", how="semi")
        .filter(pl.col("n") >= TURNS_MIN_MONTHS)
        .select(
            "period",
            (pl.col("cogs") * TURNS_MONTHS / pl.col("n")).alias("numerator"),
            (pl.col("stock_sum") / pl.col("n")).alias("denominator"),
        )
        .with_columns(_ratio(pl.col("numerator"), pl.col("denominator")).alias("value"))
    )

    cover = (
        _windowed(cogs.with_columns(pl.col("month").dt.month_end().dt.day().alias("days")), COVER_MONTHS)
        .group_by("period")
        .agg(_sum(pl.col("cogs")).alias("cogs"), pl.col("days").sum().alias("days"))
        .join(periods, on="period")
        .select(
            "period", pl.col("stock_value").alias("numerator"), (pl.col("cogs") / pl.col("days")).alias("denominator")
        )
        .with_columns(_ratio(pl.col("numerator"), pl.col("denominator")).alias("value"))
    )

    is_obsolete = pl.col("discontinue_date").is_not_null() & (
        pl.col("discontinue_date") <= pl.col("month").dt.month_end()
    )
    obsolete = stocked.group_by(pl.col("month").alias("period")).agg(
        _sum(pl.col("value").filter(is_obsolete)).alias("numerator")
    )

    # A SKU's mean over its known months of the window; a SKU with no sales row in it (not launched, or never
    # sold) sold nothing, one whose months are all unknown cannot be judged and is left out.
    recent = (
        _windowed(sku_months.select("sku", "month", "sold"), COVER_MONTHS)
        .group_by("sku", "period")
        .agg(
            pl.when(pl.col("sold").count() > 0).then(_sum(pl.col("sold")) / pl.col("sold").count()).alias("mean_sold"),
            pl.lit(True).alias("_rows"),
        )
    )
    surplus = pl.max_horizontal(pl.col("on_hand") - excess_cover_months * pl.col("mean_sold").fill_null(0.0), 0.0)
    judged = ~is_obsolete & (pl.col("_rows").is_null() | pl.col("mean_sold").is_not_null())
    excess = (
        stocked.join(recent, left_on=["sku", "month"], right_on=["sku", "period"], how="left")
        .group_by(pl.col("month").alias("period"))
        .agg(_sum((surplus * pl.col("unit_cost")).filter(judged)).alias("numerator"))
    )

    def money(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col("numerator").alias("value"))

    return pl.concat(
        [
            _part(turns, "inventory_turns"),
            _part(cover, "days_of_cover"),
            _part(money(excess), "excess_value"),
            _part(money(obsolete), "obsolete_value"),
        ]
    )


def kpi_history(
    cycle: date,
    *,
    plan_vs_actual: pl.DataFrame,
    demand_plan: pl.DataFrame,
    demand: pl.DataFrame,
    stock: pl.DataFrame,
    products: pl.DataFrame,
    excess_cover_months: float,
) -> pl.DataFrame:
    """The KPI history as of `cycle`: one row per period, KPI and lag, `KPI_HISTORY_SCHEMA`, sorted by
    period, KPI and lag.

    `plan_vs_actual`: the cycle's `sop.plan_vs_actual` rows; `demand_plan`: `DEMAND_PLAN_COLUMNS`;
    `demand`: `marts.fct_demand_monthly` (`sku, month, units, is_stockout`, optionally `channel`,
    `is_missing`); `stock`: month-end counts (`sku, month, on_hand`); `products`: `sku, unit_cost,
    discontinue_date`; `excess_cover_months`: `SopConfig.excess_cover_months`. Only months before `cycle`
    are read from the facts and the plan scores.
    """
    sku_months = _sku_months(demand, cycle)
    plans = plan_kpis(plan_vs_actual.filter(pl.col("month") < cycle))
    parts = [
        (plans, LOCKED_PLANS),
        (plan_stability(demand_plan, cycle), LOCKED_PLANS),
        (fill_rate(sku_months), FACTS),
        (stock_kpis(sku_months, stock, products, cycle, excess_cover_months), FACTS),
    ]
    frame = pl.concat([part.with_columns(pl.lit(source).alias("source")) for part, source in parts])
    return (
        frame.with_columns(
            pl.lit(cycle, dtype=pl.Date).alias("cycle"),
            pl.col("kpi").replace_strict(KPI_UNITS, return_dtype=pl.String).alias("unit"),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in KPI_HISTORY_SCHEMA.items())
        .sort("period", "kpi", "lag", nulls_last=False)
    )


def kpi_series(history: pl.DataFrame, kpi: str, lag: int | None = None) -> pl.DataFrame:
    """One KPI over time for a chart: `period, value`, sorted by period, from the latest cycle of
    `history` (a `kpi_history` frame, or the whole `sop.kpi_history` table)."""
    rows = history.filter(pl.col("cycle") == pl.col("cycle").max(), pl.col("kpi") == kpi)
    rows = rows.filter(pl.col("lag").is_null() if lag is None else pl.col("lag") == lag)
    return rows.select("period", "value").sort("period")


def _empty_if_missing(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, sql: str, params: list, empty: dict
) -> pl.DataFrame:
    # The first cycle of a new home has no plan tables yet: nothing to score, not an error.
    if not table_columns(con, schema, table):
        return pl.DataFrame(schema=empty)
    return fetch_frame(con, sql.format(table=qualified(schema, table)), params)


def read_kpi_inputs(con: duckdb.DuckDBPyConnection, cycle: date) -> dict[str, pl.DataFrame]:
    """The inputs of `kpi_history` for `cycle` from the warehouse, each read in a fixed order (the KPIs sum
    floats): `plan_vs_actual`, `demand_plan`, `demand`, `stock`, `products`."""
    pva_columns = ", ".join(PLAN_VS_ACTUAL_SCHEMA)
    return {
        "plan_vs_actual": _empty_if_missing(
            con, "sop", "plan_vs_actual",
            f"SELECT {pva_columns} FROM {{table}} WHERE cycle = ? ORDER BY plan_cycle, sku, month",
            [cycle], PLAN_VS_ACTUAL_SCHEMA,
        ),
        "demand_plan": _empty_if_missing(
            con, "sop", "demand_plan",
            "SELECT cycle AS plan_cycle, sku, month, is_current, time_fence, previous_plan, change_vs_previous "
            "FROM {table} WHERE cycle <= ? AND is_current ORDER BY cycle, sku, month",
            [cycle], DEMAND_PLAN_COLUMNS,
        ),
        "demand": fetch_frame(
            con,
            "SELECT sku, channel, month, units, is_stockout, is_missing FROM marts.fct_demand_monthly "
            "WHERE month < ? ORDER BY sku, channel, month",
            [cycle],
        ),
        "stock": _empty_if_missing(
            con, "intermediate", "int_inventory_aggregated_to_months",
            "SELECT sku, month, on_hand FROM {table} WHERE month < ? ORDER BY sku, month",
            [cycle], {"sku": pl.String, "month": pl.Date, "on_hand": pl.Float64},
        ),
        "products": fetch_frame(
            con, "SELECT sku, unit_cost, discontinue_date FROM marts.dim_products ORDER BY sku"
        ),
    }
