"""What each replayed plan earned: service, stock and cost per policy and service target, the stock at equal
fill rate read off the trade-off curves, and the verdict sentence. Definitions: docs/replay.md."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from sop_pipeline.replay.policies import NAIVE, PERFECT_FORESIGHT, POLICIES, PRODUCTION

# A year's cost of keeping one currency unit of stock at cost (capital, storage, insurance, shrinkage,
# obsolescence): the middle of the 20-30 % the inventory literature quotes for consumer goods.
HOLDING_COST_RATE = 0.25

SUMMARY_SCHEMA = {
    "policy": pl.String, "service_target": pl.Float64, "months": pl.Int32, "skus": pl.Int32,
    "target_fill_rate": pl.Float64, "demand_units": pl.Float64, "fulfilled_units": pl.Float64,
    "fill_rate": pl.Float64, "lost_units": pl.Float64, "lost_revenue": pl.Float64, "lost_margin": pl.Float64,
    "avg_inventory_value": pl.Float64, "turns": pl.Float64, "purchase_spend": pl.Float64,
    "peak_cash_in_stock": pl.Float64, "excess_at_end": pl.Float64, "holding_cost": pl.Float64,
    "total_cost": pl.Float64,
}


def _sum(frame: pl.DataFrame, expr: pl.Expr) -> float:
    return float(frame.select(expr.sort().sum()).item())


def summarise(replay: pl.DataFrame, prices: pl.DataFrame, excess_cover_months: float,
              holding_cost_rate: float = HOLDING_COST_RATE) -> pl.DataFrame:
    """One row per policy and service target (SUMMARY_SCHEMA) of `replay` (`policy, service_target, sku,
    month, demand, fulfilled, lost, closing, receipts, service_level`); `prices`: `sku, unit_cost,
    unit_price`. A null service target is the configured ABC levels."""
    frame = replay.join(prices, on="sku", how="left")
    rows = []
    keys = frame.select("policy", "service_target").unique().sort("policy", "service_target", nulls_last=False)
    for policy, target in keys.iter_rows():
        part = frame.filter((pl.col("policy") == policy) & pl.col("service_target").eq_missing(target))
        months = part["month"].n_unique()
        demand = _sum(part, pl.col("demand"))
        fulfilled = _sum(part, pl.col("fulfilled"))
        stock = part.group_by("month").agg((pl.col("closing") * pl.col("unit_cost")).sort().sum().alias("value"))
        average = float(stock["value"].sort().sum()) / months if months else 0.0
        cost_of_sales = _sum(part, pl.col("fulfilled") * pl.col("unit_cost"))
        lost_margin = _sum(part, pl.col("lost") * (pl.col("unit_price") - pl.col("unit_cost")))
        holding = average * holding_cost_rate * months / 12
        rows.append({
            "policy": policy, "service_target": target, "months": months, "skus": part["sku"].n_unique(),
            "target_fill_rate": _sum(part, pl.col("demand") * pl.col("service_level").fill_null(0.0)) / demand
            if demand > 0 else None,
            "demand_units": demand, "fulfilled_units": fulfilled,
            "fill_rate": fulfilled / demand if demand > 0 else None,
            "lost_units": _sum(part, pl.col("lost")),
            "lost_revenue": _sum(part, pl.col("lost") * pl.col("unit_price")),
            "lost_margin": lost_margin,
            "avg_inventory_value": average,
            "turns": cost_of_sales * 12 / months / average if months and average > 0 else None,
            "purchase_spend": _sum(part, pl.col("receipts") * pl.col("unit_cost")),
            "peak_cash_in_stock": float(stock["value"].max() or 0.0),
            "excess_at_end": excess_at_end(part, excess_cover_months),
            "holding_cost": holding,
            "total_cost": holding + lost_margin,
        })
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA)


def excess_at_end(part: pl.DataFrame, excess_cover_months: float) -> float:
    """Value at cost of the last month's closing stock beyond `excess_cover_months` of each SKU's mean
    monthly demand over the replay (all of it for a SKU with no demand)."""
    last = part["month"].max()
    by_sku = part.group_by("sku").agg(
        pl.col("demand").sort().sum().alias("_demand"), pl.len().alias("_months"),
        pl.col("closing").filter(pl.col("month") == last).first().alias("_closing"),
        pl.col("unit_cost").first().alias("_cost"),
    )
    excess = (pl.col("_closing").fill_null(0.0) - excess_cover_months * pl.col("_demand") / pl.col("_months")).clip(
        lower_bound=0.0)
    return _sum(by_sku, excess * pl.col("_cost"))


def inventory_at_fill(summary: pl.DataFrame, policy: str, fill_rate: float) -> float | None:
    """The average inventory value `policy` needed for `fill_rate`, read off its curve by linear interpolation;
    None when the fill rate lies outside it."""
    curve = summary.filter(pl.col("policy") == policy).select("fill_rate", "avg_inventory_value")
    points = sorted((f, v) for f, v in curve.iter_rows() if f is not None)
    for (f0, v0), (f1, v1) in zip(points, points[1:], strict=False):
        if f0 <= fill_rate <= f1:
            return v0 if f1 == f0 else v0 + (fill_rate - f0) * (v1 - v0) / (f1 - f0)
    if points and any(abs(f - fill_rate) < 1e-12 for f, _ in points):
        return min(v for f, v in points if abs(f - fill_rate) < 1e-12)
    return None


def equal_service(summary: pl.DataFrame) -> pl.DataFrame:
    """One row per policy: `policy, target_fill_rate, inventory_at_target, saving_vs_naive`: the stock each
    policy needed to reach the configured target fill rate, read off its curve (null when it never did),
    and how much less that is than naive's."""
    configured = summary.filter(pl.col("service_target").is_null())
    weights = configured.select("target_fill_rate").drop_nulls()
    target = float(weights["target_fill_rate"].max()) if weights.height else None
    naive = inventory_at_fill(summary, NAIVE, target) if target is not None else None
    rows = []
    for policy in [p for p in POLICIES if p in set(summary["policy"])]:
        stock = inventory_at_fill(summary, policy, target) if target is not None else None
        saving = 1 - stock / naive if stock is not None and naive else None
        rows.append((policy, target, stock, saving))
    return pl.DataFrame(rows, schema={"policy": pl.String, "target_fill_rate": pl.Float64,
                                      "inventory_at_target": pl.Float64, "saving_vs_naive": pl.Float64}, orient="row")


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def _money(value: float) -> str:
    return f"{value:,.0f}"


def verdict(summary: pl.DataFrame, months: int | None = None) -> str:
    """One sentence: the production plan's fill rate at the configured service levels, and its stock against a
    naive plan at equal fill rate, with the share of the gap to perfect foresight it closes. Equal fill rate is
    the production plan's own where naive's curve reaches it, else the target fill rate where both curves do."""
    configured = _rows(summary.filter(pl.col("service_target").is_null()))
    production = configured.get(PRODUCTION)
    if production is None or production["fill_rate"] is None:
        return "No verdict: the replay has no production plan with demand to score."
    months = months or production["months"]
    head = (f"Planned with the production forecast, the last {months} months would have held "
            f"{_percent(production['fill_rate'])} fill rate (target {_percent(production['target_fill_rate'])}) "
            f"with {_money(production['avg_inventory_value'])} average stock at cost")
    naive_fills = [f for f in summary.filter(pl.col("policy") == NAIVE)["fill_rate"].to_list() if f is not None]
    if not naive_fills:
        return head + "."
    naive = inventory_at_fill(summary, NAIVE, production["fill_rate"])
    if naive is not None:
        ours, where = production["avg_inventory_value"], "for the same fill rate"
    else:
        target = production["target_fill_rate"]
        naive = inventory_at_fill(summary, NAIVE, target) if target is not None else None
        ours = inventory_at_fill(summary, PRODUCTION, target) if target is not None else None
        if naive is None or ours is None:
            reach = (f"never reached that fill rate (at most {_percent(max(naive_fills))})"
                     if production["fill_rate"] > max(naive_fills)
                     else f"held more at every service target (at least {_percent(min(naive_fills))})")
            return head + f"; a naive plan {reach}, so the stock cannot be compared at equal service."
        head += (f"; naive never reached that fill rate (at most {_percent(max(naive_fills))}), and at the target's "
                 f"{_percent(target)} the production plan needed {_money(ours)}")
        where = "for it"
    saving = naive - ours
    word = "less" if saving >= 0 else "more"
    text = head + f": {_percent(abs(saving / naive))} {word} than a naive plan needed {where} ({_money(naive)})"
    foresight = configured.get(PERFECT_FORESIGHT)
    if foresight is not None and naive - foresight["avg_inventory_value"] > 0:
        closed = saving / (naive - foresight["avg_inventory_value"])
        text += (f", {_percent(closed)} of the gap to perfect foresight closed "
                 f"({_money(foresight['avg_inventory_value'])} at {_percent(foresight['fill_rate'])} fill rate)")
    return text + "."


def _rows(frame: pl.DataFrame) -> Mapping[str, dict]:
    return {row["policy"]: row for row in frame.iter_rows(named=True)}

