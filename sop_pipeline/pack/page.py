"""The executive S&OP pack: one static, self-contained HTML page per cycle (SPEC §10).

The page reads the cycle's published tables from the warehouse (never computes a plan number of its own),
writes its figures through `fmt` and its charts through `charts`, and fills one Jinja2 template with an
inline stylesheet: no script, no font, no image or stylesheet from anywhere, so it opens from disk with no
network and prints on A4 and US letter. Nothing in it depends on the clock, so a rerun of the same cycle
writes the same bytes.

Each section is built on its own. A section whose tables are absent says why (forecast-only mode: no
stock counts; the first cycle: no earlier plan), and one that fails says so on the page and in the run's
log: the pack never fails the cycle.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.fva import STEPS
from sop_pipeline.pack import charts, fmt
from sop_pipeline.scenarios import CENTRAL
from sop_pipeline.supply.forecast_only import is_forecast_only
from sop_pipeline.scenario_run import company_budget
from sop_pipeline.warehouse import fetch_frame, table_columns

PACK_FILE = "index.html"
HISTORY_MONTHS = 24  # months of actuals before the plan in the demand charts
TOP_FAMILIES = 3  # families charted beside the total
DECISIONS_PER_TYPE = 5  # exceptions listed per type in "Decisions needed"
SCORED_LAGS = (1, 3)
EXCEPTION_TITLES = {
    "stockout": "Stockouts: demand that will not be met",
    "below_safety_stock": "Below safety stock: at risk, still served",
    "capacity_overload": "Supplier capacity overloads",
    "excess": "Excess stock",
    "obsolete_risk": "Obsolete risk: stock of discontinued SKUs",
}
KPI_LABELS = {  # (kpi, lag) -> label on the trend chart, and how its value is formatted
    ("wmape", 1): ("Plan WMAPE, lag 1", "pct"),
    ("wmape", 3): ("Plan WMAPE, lag 3", "pct"),
    ("bias", 1): ("Plan bias, lag 1", "pct"),
    ("fva_vs_naive", 1): ("FVA of the plan vs naive, lag 1", "points"),
    ("fill_rate", None): ("Fill rate (realised service)", "pct"),
    ("inventory_turns", None): ("Inventory turns", "number"),
    ("days_of_cover", None): ("Days of cover", "number"),
    ("excess_value", None): ("Excess value", "money"),
    ("plan_stability", None): ("Frozen-fence change", "pct"),
}
CHART_FORMATS = {"pct": ".1~%", "points": "+.1%", "number": ",.1~f", "money": "~s"}  # d3 formats of the KPI panels
NO_STOCK = "not available in forecast-only mode: no stock counts landed, so there is no supply review, cash plan or scenario grid"


class Unavailable(Exception):
    """A section that cannot be shown, with the reason the page gives."""


@dataclass
class Section:
    key: str
    title: str
    body: dict = field(default_factory=dict)
    unavailable: str | None = None  # why the section is empty


@dataclass(frozen=True)
class Pack:
    cycle: date
    html: str
    summary: list[str]  # the 60-second summary, one sentence each
    sections: list[Section]

    @property
    def unavailable(self) -> dict[str, str]:
        return {s.key: s.unavailable for s in self.sections if s.unavailable}


class PackData:
    """Read access to the cycle's tables; a table that does not exist reads as None."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cycle: date, currency: str):
        self.con, self.cycle, self.currency = con, cycle, currency
        self.forecast_only = is_forecast_only(con, cycle)
        self.previous_cycle = add_months(cycle, -1)

    def has(self, schema: str, table: str) -> bool:
        return bool(table_columns(self.con, schema, table))

    def frame(self, schema: str, table: str, sql: str, params=()) -> pl.DataFrame | None:
        """`sql` (a query of this module, values bound as parameters) when `schema.table` exists."""
        return fetch_frame(self.con, sql, params) if self.has(schema, table) else None

    def scenario_table(self, table: str, sql: str, params=()) -> pl.DataFrame:
        """A table of the scenario stage, or Unavailable when the cycle has no supply review."""
        if self.forecast_only:
            raise Unavailable(NO_STOCK)
        frame = self.frame("sop", table, sql, params)
        if frame is None or frame.is_empty():
            raise Unavailable(f"sop.{table} has no rows for this cycle: materialise the scenarios first")
        return frame

    def money(self, value, **kwargs) -> str:
        return fmt.money(value, self.currency, **kwargs)


# --- the figures the summary and the sections share --------------------------------------------------------

def plan_totals(data: PackData) -> dict:
    """The locked plan's 12-month totals, in units and at price, overall and over the budgeted months."""
    plan = data.frame("sop", "demand_plan",
                      "SELECT p.version, p.month, p.family, p.consensus, p.consensus * d.unit_price AS value "
                      "FROM sop.demand_plan p JOIN marts.dim_products d USING (sku) "
                      "WHERE p.cycle = ? AND p.is_current ORDER BY p.sku, p.month", [data.cycle])
    if plan is None or plan.is_empty():
        raise Unavailable("no demand plan is locked for this cycle")
    budget = company_budget(fetch_frame(data.con, "SELECT month, family, revenue_target FROM staging.stg_raw__budget "
                                                  "ORDER BY month, family NULLS LAST, revenue_target"))
    budgeted = plan.join(budget, on="month", how="semi")
    budget_total = budget.join(plan.select("month").unique(), on="month", how="semi")["budget_revenue"].sort().sum()
    return {
        "version": int(plan["version"].max()),
        "units": float(plan["consensus"].sort().sum()),
        "value": float(plan["value"].sort().sum()),
        "budget": float(budget_total) if budgeted.height else None,
        "value_on_budgeted_months": float(budgeted["value"].sort().sum()) if budgeted.height else None,
        "months": plan["month"].n_unique(),
        "budgeted_months": budgeted["month"].n_unique(),
    }


def plan_state_sentence(data: PackData) -> str:
    """Whether the executive meeting approved the plan shown: 'draft: not yet approved' or 'approved by X on D
    (scenario S)'."""
    if "plan_state" not in table_columns(data.con, "sop", "demand_plan"):  # a plan from before states: approved
        return "This plan is approved (locked before approvals were recorded)."
    state = data.frame("sop", "demand_plan", "SELECT coalesce(plan_state, 'approved') AS plan_state, approved_by, "
                                             "approved_on, approved_scenario FROM sop.demand_plan "
                                             "WHERE cycle = ? AND is_current LIMIT 1", [data.cycle])
    if state is None or state.is_empty():
        raise Unavailable("no demand plan for this cycle")
    row = state.row(0, named=True)
    if row["plan_state"] != "approved":
        return "This plan is a draft: not yet approved by the executive meeting."
    if row["approved_by"] is None:
        return "This plan is approved (locked before approvals were recorded)."
    return (f"This plan is approved by {row['approved_by']} on {row['approved_on']:%d %b %Y} "
            f"(scenario {row['approved_scenario']}).")


def bridge_levels(data: PackData) -> pl.DataFrame | None:
    """The plan bridge's total rows of the cycle, or None before there is an earlier plan to bridge from."""
    bridge = data.frame("sop", "plan_bridge", "SELECT * FROM sop.plan_bridge WHERE cycle = ? AND family IS NULL "
                                              "ORDER BY cause_order", [data.cycle])
    return None if bridge is None or bridge.is_empty() else bridge


def scorecard_total(data: PackData) -> pl.DataFrame | None:
    return data.frame("sop", "fva", "SELECT lag, step, wmape, wmape_low, wmape_high, fva_vs_naive, fva_low, fva_high, "
                                    "is_significant, n_scored FROM sop.fva WHERE cycle = ? AND segment_type = 'total' "
                                    "AND lag IN (SELECT unnest(?)) ORDER BY lag, step_order",
                      [data.cycle, list(SCORED_LAGS)])


# --- sections ------------------------------------------------------------------------------------------------

def summary_sentences(data: PackData) -> list[str]:
    """The 60-second summary: a few sentences, each with its number, from the cycle's tables."""
    sentences = []
    totals = plan_totals(data)
    levels = bridge_levels(data)
    line = (f"The 12-month demand plan (version {totals['version']}) is {fmt.units(totals['units'])} units, "
            f"worth {data.money(totals['value'])} at list price")
    if levels is not None:
        previous = levels.filter(pl.col("cause") == "previous_plan").row(0, named=True)
        line += (f": {fmt.pct(fmt.change(totals['units'], previous['demand_units']), signed=True)} in units and "
                 f"{fmt.pct(fmt.change(totals['value'], previous['demand_value']), signed=True)} in value against "
                 f"last cycle's plan ({fmt.units(previous['demand_units'])} units, {data.money(previous['demand_value'])})")
    else:
        line += " (first cycle: no earlier plan to compare with)"
    sentences.append(line + ".")
    sentences.append(plan_state_sentence(data))
    if totals["budget"]:
        sentences.append(
            f"Over the {fmt.units(totals['budgeted_months'])} plan months that have a budget, demand at list price is "
            f"{data.money(totals['value_on_budgeted_months'])} against a revenue budget of {data.money(totals['budget'])} "
            f"({fmt.pct(fmt.change(totals['value_on_budgeted_months'], totals['budget']), signed=True)}).")
    if not data.forecast_only:
        status = data.frame("sop", "sku_status", "SELECT status, count(*) AS skus FROM sop.sku_status WHERE cycle = ? "
                                                 "AND scenario = ? GROUP BY status ORDER BY status", [data.cycle, CENTRAL])
        grid = data.frame("sop", "scenario_summary", "SELECT * FROM sop.scenario_summary WHERE cycle = ? AND scenario = ?",
                          [data.cycle, CENTRAL])
        if status is not None and grid is not None and grid.height:
            counts = dict(status.iter_rows())
            g = grid.row(0, named=True)
            sentences.append(
                f"In the central scenario {counts.get('healthy', 0)} SKUs are healthy, {counts.get('at_risk', 0)} at risk, "
                f"{counts.get('stockout', 0)} stocking out, {counts.get('excess', 0)} in excess and "
                f"{counts.get('obsolete_risk', 0)} at obsolete risk; stockouts put {data.money(g['lost_revenue'])} of "
                f"revenue at risk (fill rate {fmt.pct(g['service_level'])}).")
            sentences.append(cash_sentence(data))
    else:
        sentences.append("Supply, cash and scenarios are " + NO_STOCK + ".")
    scores = scorecard_total(data)
    if scores is not None and scores.height:
        production = scores.filter((pl.col("lag") == 1) & (pl.col("step") == "production"))
        if production.height:
            p = production.row(0, named=True)
            verdict = ("beats" if (p["fva_low"] or 0) > 0 else "is worse than" if (p["fva_high"] or 0) < 0
                       else "is not distinguishable from")
            sentences.append(
                f"The production forecast {verdict} a naive guess at lag 1: WMAPE {fmt.pct(p['wmape'])}, "
                f"{fmt.points(p['fva_vs_naive'])} of WMAPE better than naive (90% interval "
                f"{fmt.points(p['fva_low'])} to {fmt.points(p['fva_high'])}, backtest).")
    replay = replay_verdict(data)
    if replay:
        sentences.append(replay)
    return sentences


def replay_verdict(data: PackData) -> str | None:
    """The plan replay's verdict of the cycle (sop.replay_summary), if it ran."""
    verdicts = data.frame("sop", "replay_summary", "SELECT DISTINCT verdict FROM sop.replay_summary WHERE cycle = ? "
                                                   "AND verdict IS NOT NULL ORDER BY verdict", [data.cycle])
    return verdicts["verdict"][0] if verdicts is not None and verdicts.height else None


def plan_replay(data: PackData) -> dict:
    from sop_pipeline.replay.policies import POLICIES, POLICY_LABELS

    summary = data.frame("sop", "replay_summary", "SELECT * FROM sop.replay_summary WHERE cycle = ? "
                                                  "ORDER BY policy, service_target NULLS FIRST", [data.cycle])
    if summary is None or summary.filter(pl.col("fill_rate").is_not_null()).is_empty():
        raise Unavailable("the replay scored no month (too little history, or not run for this cycle)")
    order = [p for p in POLICIES if p in set(summary["policy"].to_list())]
    configured = summary.filter(pl.col("service_target").is_null())
    rows = [{"policy": POLICY_LABELS[r["policy"]], "fill_rate": fmt.pct(r["fill_rate"]),
             "stock": data.money(r["avg_inventory_value"]), "lost_revenue": data.money(r["lost_revenue"]),
             "purchases": data.money(r["purchase_spend"]), "total_cost": data.money(r["total_cost"]),
             "turns": fmt.number(r["turns"])}
            for policy in order for r in configured.filter(pl.col("policy") == policy).iter_rows(named=True)]
    curves = (summary.filter(pl.col("fill_rate").is_not_null() & pl.col("avg_inventory_value").is_not_null())
              .select(pl.col("policy").replace_strict(POLICY_LABELS), "fill_rate", "avg_inventory_value")
              .sort("policy", "fill_rate"))
    first = configured.row(0, named=True)
    return {"rows": rows, "verdict": replay_verdict(data), "months": first["months"], "skus": first["skus"],
            "chart": charts.replay_tradeoff(curves, data.currency, [POLICY_LABELS[p] for p in order])}


def cash_sentence(data: PackData) -> str:
    """The cash line of the summary: which scenario needs funding beyond the credit line, and the lowest balance."""
    grid = fetch_frame(data.con, "SELECT scenario, lowest_cash_balance, lowest_cash_month, funding_need, credit_line, "
                                 "peak_cash_need, peak_cash_month, cash_basis FROM sop.scenario_summary WHERE cycle = ? "
                                 "ORDER BY scenario", [data.cycle])
    rows = {r["scenario"]: r for r in grid.iter_rows(named=True)}
    central = rows[CENTRAL]
    if central["lowest_cash_balance"] is None:  # no opening cash landed: balances would be made up
        return (f"The plan consumes at most {data.money(central['peak_cash_need'])} of cash in the central scenario"
                f"{' (' + fmt.month(central['peak_cash_month']) + ')' if central['peak_cash_month'] else ''}; "
                f"balances and funding need are unknown: {central['cash_basis']}.")
    needing = [r for name, r in rows.items() if (r["funding_need"] or 0) > 0]
    low = f"the central scenario's lowest cash balance is {data.money(central['lowest_cash_balance'])} " \
          f"({fmt.month(central['lowest_cash_month'])}, credit line {data.money(central['credit_line'])})"
    if not needing:
        return f"No scenario needs funding beyond the credit line: {low}."
    worst = max(needing, key=lambda r: (r["funding_need"], r["scenario"]))
    names = ", ".join(sorted(r["scenario"] for r in needing))
    return (f"Funding needed beyond the credit line in {names}: up to {data.money(worst['funding_need'])} "
            f"({worst['scenario']}, lowest balance {data.money(worst['lowest_cash_balance'])} in "
            f"{fmt.month(worst['lowest_cash_month'])}); {low}.")


def decisions(data: PackData) -> dict:
    exceptions = data.scenario_table(
        "exceptions", "SELECT exception_type, coalesce(sku, supplier) AS item, supplier, month, units, severity, "
                      "suggested_action FROM sop.exceptions WHERE cycle = ? AND scenario = ? "
                      "ORDER BY severity DESC, exception_type, item, month", [data.cycle, CENTRAL])
    groups = []
    totals = (exceptions.group_by("exception_type")
              .agg(pl.col("severity").sort().sum().alias("money"), pl.len().alias("count"))
              .sort(["money", "exception_type"], descending=[True, False]))
    for kind, money, count in totals.iter_rows():
        rows = exceptions.filter(pl.col("exception_type") == kind).head(DECISIONS_PER_TYPE)
        groups.append({
            "title": EXCEPTION_TITLES.get(kind, kind), "count": count, "money": data.money(money),
            "shown": rows.height,
            "rows": [{"item": r["item"], "supplier": r["supplier"] or "", "month": fmt.month(r["month"]),
                      "units": fmt.units(r["units"]), "severity": data.money(r["severity"]),
                      "action": r["suggested_action"]} for r in rows.iter_rows(named=True)],
        })
    return {"groups": groups}


def decision_follow_up(data: PackData) -> dict:
    from sop_pipeline.plan.decisions import follow_up

    log = data.frame("sop", "decisions", "SELECT * FROM sop.decisions WHERE cycle = ? ORDER BY decided_cycle, "
                                         "decision_id", [data.cycle])
    if log is None or log.is_empty():
        raise Unavailable("no decision recorded yet: `sop decide`, or a decisions/ file in the landing folder")
    shown = log.filter(pl.col("is_from_last_cycle") | ~pl.col("status").is_in(["done", "dropped"]))
    rows = [{"id": r["decision_id"], "meeting": fmt.month(r["decided_cycle"]), "decision": r["decision"],
             "owner": r["owner"], "due": r["due_date"].isoformat() if r["due_date"] else "",
             "about": " ".join(x for x in (r["sku"], r["family"], (r["exception_type"] or "").replace("_", " ")) if x),
             "status": r["status"].replace("_", " ") + (", overdue" if r["is_overdue"] else ""),
             "overdue": r["is_overdue"]} for r in shown.iter_rows(named=True)]
    return {"follow_up": follow_up(log), "rows": rows, "previous": fmt.month(data.previous_cycle)}


def scenario_grid(data: PackData) -> dict:
    grid = data.scenario_table("scenario_summary", "SELECT * FROM sop.scenario_summary WHERE cycle = ?", [data.cycle])
    peaks = data.scenario_table(
        "capacity_load", "SELECT scenario, supplier, month, utilisation FROM sop.capacity_load WHERE cycle = ? "
                         "AND utilisation IS NOT NULL ORDER BY scenario, utilisation DESC, supplier, month", [data.cycle])
    peak = {r["scenario"]: r for r in peaks.unique("scenario", keep="first", maintain_order=True).iter_rows(named=True)}
    order = scenario_order(grid["scenario"].to_list())
    rows = []
    for name in order:
        g = grid.filter(pl.col("scenario") == name).row(0, named=True)
        p = peak.get(name)
        rows.append({
            "scenario": name, "description": g["description"] or "",
            "cells": [fmt.units(g["demand_units"]), fmt.pct(g["service_level"]), data.money(g["revenue"], compact=True),
                      data.money(g["lost_revenue"], compact=True), data.money(g["ending_inventory_value"], compact=True),
                      data.money(g["excess_value"], compact=True), data.money(g["po_spend"], compact=True),
                      data.money(g["lowest_cash_balance"], compact=True)
                      + (f" ({fmt.month(g['lowest_cash_month'])})" if g["lowest_cash_month"] else ""),
                      data.money(g["funding_need"], compact=True), fmt.pct(g["peak_capacity_use"], 0)],
            "peak_supplier": f"{p['supplier']}, {fmt.month(p['month'])}" if p else "",
        })
    header = ["Demand (units)", "Fill rate (%)", f"Revenue ({data.currency})", f"Lost revenue ({data.currency})",
              f"Ending stock ({data.currency} at cost)", f"Excess ({data.currency})", f"PO spend ({data.currency})",
              f"Lowest cash balance ({data.currency}, month)", f"Funding need ({data.currency})",
              "Peak capacity use (%)"]
    basis = grid.filter(pl.col("scenario") == CENTRAL)["cash_basis"]
    return {"header": header, "rows": rows, "cash_basis": basis[0] if basis.len() else ""}


def scenario_order(names: list[str]) -> list[str]:
    """The default three first, in their order of ambition, then the user's scenarios by name."""
    known = [n for n in ("cautious", CENTRAL, "ambitious") if n in names]
    return known + sorted(n for n in names if n not in known)


BRIDGE_MEASURES = (("demand_units", "Demand plan (units)", "units"), ("demand_value", "Demand plan (value)", "money"),
                   ("purchase_value", "Planned purchases", "money"), ("peak_cash_need", "Peak cash need", "money"),
                   ("peak_inventory_cash_need", "Peak stock financing", "money"))


def plan_bridge(data: PackData) -> dict:
    bridge = data.frame("sop", "plan_bridge", "SELECT * FROM sop.plan_bridge WHERE cycle = ? "
                                              "ORDER BY family NULLS FIRST, cause_order", [data.cycle])
    if bridge is None or bridge.is_empty():
        raise Unavailable(f"first cycle: no bridge yet (no plan was locked for {fmt.month(data.previous_cycle)})")
    total = bridge.filter(pl.col("family").is_null())
    measures = [m for m in BRIDGE_MEASURES if total[m[0]].is_not_null().any()]

    def shown(value, kind, level):
        if kind == "units":
            return fmt.units(value, signed=not level)
        return data.money(value, signed=not level, compact=True)

    rows = [{"cause": r["cause"].replace("_", " "), "is_level": r["is_level"], "note": r["note"] or "",
             "cells": [shown(r[m], kind, r["is_level"]) for m, _, kind in measures]}
            for r in total.iter_rows(named=True)]
    families = bridge.filter(pl.col("family").is_not_null() & ~pl.col("is_level"))
    # Causes that move no family's units (price_cost, stock_and_orders are money-only) stay in the total table.
    moving = families.group_by("cause").agg((pl.col("demand_units").abs() > 1e-9).any().alias("moves"))
    moves = dict(moving.iter_rows())
    causes = [c for c in total.filter(~pl.col("is_level"))["cause"].to_list() if moves.get(c)]
    by_family = []
    for family in families["family"].unique().sort().to_list():
        f = bridge.filter(pl.col("family") == family)
        values = dict(zip(f["cause"].to_list(), f["demand_units"].to_list()))
        by_family.append({"family": family, "cells": [fmt.units(values.get(c), signed=True) for c in causes],
                          "before": fmt.units(values.get("previous_plan")), "after": fmt.units(values.get("current_plan"))})
    steps, running = [], 0.0
    for r in total.iter_rows(named=True):
        value = r["demand_units"] or 0.0
        if r["is_level"]:
            steps.append({"label": r["cause"].replace("_", " "), "start": 0.0, "end": value, "kind": "level"})
            running = value
        elif abs(value) > 1e-9:
            steps.append({"label": r["cause"].replace("_", " "), "start": running, "end": running + value,
                          "kind": "up" if value > 0 else "down"})
            running += value
    chart = charts.waterfall(pl.DataFrame(steps), "demand plan, units (12 months)")
    return {"header": [label for _, label, _ in measures], "rows": rows, "chart": chart,
            "family_causes": [c.replace("_", " ") for c in causes], "families": by_family}


def forecast_scorecard(data: PackData) -> dict:
    scores = scorecard_total(data)
    if scores is None or scores.is_empty():
        raise Unavailable("the backtest scored no month (too little history)")
    steps = [s for s in STEPS if s in set(scores["step"].to_list())]
    chart = charts.fva_scorecard(scores.select("lag", "step", "wmape", pl.col("wmape_low").alias("low"),
                                               pl.col("wmape_high").alias("high")), steps)
    rows = [{"lag": r["lag"], "step": r["step"], "wmape": fmt.pct(r["wmape"]),
             "interval": f"{fmt.pct(r['wmape_low'])} – {fmt.pct(r['wmape_high'])}",
             "fva": fmt.points(r["fva_vs_naive"]),
             "fva_interval": f"{fmt.points(r['fva_low'])} to {fmt.points(r['fva_high'])}",
             "verdict": "beyond noise" if r["is_significant"] else "within noise", "n": fmt.units(r["n_scored"])}
            for r in scores.iter_rows(named=True) if r["step"] != "naive"]
    return {"chart": chart, "rows": rows}


def demand_charts(data: PackData) -> dict:
    first = add_months(data.cycle, -HISTORY_MONTHS)
    history = fetch_frame(data.con, "SELECT family, month, units FROM marts.fct_demand_monthly "
                                    "WHERE month >= ? AND month < ? AND units IS NOT NULL ORDER BY family, month, units",
                          [first, data.cycle])
    plan = data.frame("sop", "demand_plan", "SELECT family, month, consensus, p10, p90 FROM sop.demand_plan "
                                            "WHERE cycle = ? AND is_current ORDER BY family, month, sku", [data.cycle])
    if plan is None or plan.is_empty():
        raise Unavailable("no demand plan is locked for this cycle")
    top = (plan.group_by("family").agg(pl.col("consensus").sort().sum().alias("units"))
           .sort(["units", "family"], descending=[True, False]).head(TOP_FAMILIES)["family"].to_list())

    def series(name: str, keep: pl.Expr) -> pl.DataFrame:
        actual = (history.filter(keep).group_by("month").agg(pl.col("units").sort().sum().alias("actual")))
        # A family's band from its SKUs' bands, assuming their errors independent: the half-widths add in
        # quadrature. Adding the quantiles themselves would draw a band far wider than the family's own.
        planned = (plan.filter(keep).group_by("month").agg(
            pl.col("consensus").sort().sum().alias("plan"),
            ((pl.col("consensus") - pl.col("p10")) ** 2).sort().sum().sqrt().alias("below"),
            ((pl.col("p90") - pl.col("consensus")) ** 2).sort().sum().sqrt().alias("above"),
        ).select("month", "plan", (pl.col("plan") - pl.col("below")).clip(0).alias("p10"),
                 (pl.col("plan") + pl.col("above")).alias("p90")))
        return (actual.join(planned, on="month", how="full", coalesce=True)
                .select(pl.lit(name).alias("series"), "month", "actual", "plan", "p10", "p90").sort("month"))

    frame = pl.concat([series("Total", pl.lit(True)), *[series(f, pl.col("family") == f) for f in top]],
                      how="vertical_relaxed")
    return {"chart": charts.demand_fan(frame), "families": top}


def inventory_chart(data: PackData) -> dict:
    frame = data.scenario_table(
        "inventory_projection",
        "SELECT i.family, i.month, sum(i.closing * d.unit_cost ORDER BY i.sku) AS stock, "
        "sum(i.safety_stock * d.unit_cost ORDER BY i.sku) AS safety FROM sop.inventory_projection i "
        "JOIN marts.dim_products d USING (sku) WHERE i.cycle = ? AND i.scenario = ? GROUP BY ALL ORDER BY ALL",
        [data.cycle, CENTRAL])
    long = pl.concat([
        frame.select("family", "month", pl.lit("projected stock").alias("measure"), pl.col("stock").alias("value")),
        frame.select("family", "month", pl.lit("safety stock").alias("measure"), pl.col("safety").alias("value")),
    ]).sort("family", "measure", "month")
    return {"chart": charts.inventory_vs_safety(long, data.currency)}


def cash_chart(data: PackData) -> dict:
    frame = data.scenario_table("cash_plan", "SELECT scenario, month, cash_need, closing_balance, inventory_cash_need "
                                             "FROM sop.cash_plan WHERE cycle = ? ORDER BY scenario, month", [data.cycle])
    names = scenario_order(frame["scenario"].unique().to_list())
    # The closing balance when the opening cash is known; without it, the cash the plan consumes from its start.
    known = frame["closing_balance"].null_count() == 0
    long = pl.concat([
        frame.select(pl.lit("closing cash balance" if known else "cash need (cumulative)").alias("measure"),
                     "scenario", "month", pl.col("closing_balance" if known else "cash_need").alias("value")),
        frame.select(pl.lit("stock financing need (cumulative)").alias("measure"), "scenario", "month",
                     pl.col("inventory_cash_need").alias("value")),
    ])
    return {"chart": charts.cash_curve(long, data.currency, names)}


def capacity_chart(data: PackData) -> dict:
    frame = data.scenario_table("capacity_load", "SELECT supplier, month, load, capacity, is_overloaded "
                                                 "FROM sop.capacity_load WHERE cycle = ? AND scenario = ? "
                                                 "AND capacity IS NOT NULL ORDER BY supplier, month", [data.cycle, CENTRAL])
    return {"chart": charts.capacity_load(frame), "overloaded": int(frame["is_overloaded"].sum())}


def kpi_trends(data: PackData) -> dict:
    history = data.frame("sop", "kpi_history", "SELECT period, kpi, lag, value FROM sop.kpi_history WHERE cycle = ? "
                                               "AND value IS NOT NULL ORDER BY period, kpi, lag", [data.cycle])
    if history is None or history.is_empty():
        raise Unavailable("no KPI could be computed yet")
    panels, latest = [], []
    for (kpi, lag), (label, kind) in KPI_LABELS.items():
        rows = history.filter((pl.col("kpi") == kpi) & (pl.col("lag").is_null() if lag is None else pl.col("lag") == lag))
        if rows.is_empty():
            latest.append({"label": label, "value": "n/a", "period": "fills in as cycles are run"})
            continue
        panels.append((label, rows.select("period", "value"), CHART_FORMATS[kind]))
        last = rows.row(-1, named=True)
        value = {"pct": fmt.pct(last["value"]), "points": fmt.points(last["value"]),
                 "number": fmt.number(last["value"]), "money": data.money(last["value"])}[kind]
        latest.append({"label": label, "value": value, "period": fmt.month(last["period"])})
    return {"chart": charts.kpi_trends(panels) if panels else None, "latest": latest}


def since_last_cycle(data: PackData) -> dict:
    accuracy = data.frame(
        "sop", "plan_accuracy",
        "SELECT plan_cycle, lag, segment_type, segment, n_scored, actual, wmape_naive, wmape_forecast, wmape_consensus, "
        "bias_consensus, fva_consensus_vs_forecast, fva_consensus_vs_naive, plan_state, wmape_demand_review, "
        "wmape_executive, forecast_worse, demand_review_worse, executive_worse FROM sop.plan_accuracy "
        "WHERE cycle = ? AND segment_type IN ('total', 'family') ORDER BY segment_type DESC, segment, lag",
        [data.cycle])
    wanted = {1: add_months(data.cycle, -1), 3: add_months(data.cycle, -3)}
    if accuracy is None:
        raise Unavailable("no earlier plan has been scored yet")
    rows = []
    for lag, plan_cycle in wanted.items():
        picked = accuracy.filter((pl.col("lag") == lag) & (pl.col("plan_cycle") == plan_cycle))
        for r in picked.iter_rows(named=True):
            rows.append({
                "what": f"{'Total' if r['segment_type'] == 'total' else r['segment']}",
                "lag": lag, "plan": fmt.month(plan_cycle), "month": fmt.month(add_months(plan_cycle, lag - 1)),
                "actual": fmt.units(r["actual"]), "naive": fmt.pct(r["wmape_naive"]),
                "forecast": fmt.pct(r["wmape_forecast"]), "consensus": fmt.pct(r["wmape_consensus"]),
                "bias": fmt.pct(r["bias_consensus"], signed=True),
                "overrides": fmt.points(r["fva_consensus_vs_forecast"]),
                "state": r["plan_state"], "demand_review": fmt.pct(r["wmape_demand_review"]),
                "executive": fmt.pct(r["wmape_executive"]) if r["plan_state"] == "approved" else "not approved",
                "worse": ", ".join(name for name, flag in (("forecast", r["forecast_worse"]),
                                                           ("demand review", r["demand_review_worse"]),
                                                           ("executive", r["executive_worse"])) if flag) or "none",
                "is_total": r["segment_type"] == "total",
            })
    if not rows:
        raise Unavailable(f"no plan locked for {fmt.month(wanted[1])} or {fmt.month(wanted[3])} has been scored: "
                          "plan-vs-actual fills in as cycles are run")
    return {"rows": rows}


SECTIONS: tuple[tuple[str, str, Callable[[PackData], dict]], ...] = (
    ("decisions", "Decisions needed", decisions),
    ("follow_up", "Decisions of earlier meetings", decision_follow_up),
    ("scenarios", "Scenarios", scenario_grid),
    ("bridge", "Why the plan moved since last cycle", plan_bridge),
    ("scorecard", "Forecast scorecard: does the forecast beat a naive guess?", forecast_scorecard),
    ("replay", "Plan replay: what planning with each forecast would have earned", plan_replay),
    ("demand", "Demand: history and plan with its p10–p90 band", demand_charts),
    ("inventory", "Projected stock against safety stock (central, at cost)", inventory_chart),
    ("cash", "Cash by scenario", cash_chart),
    ("capacity", "Supplier capacity (central)", capacity_chart),
    ("kpis", "KPI trends", kpi_trends),
    ("since", "What happened since last cycle: plans against actuals", since_last_cycle),
)


def build_section(key: str, title: str, build: Callable[[PackData], dict], data: PackData, log=None) -> Section:
    try:
        return Section(key, title, build(data))
    except Unavailable as why:
        return Section(key, title, unavailable=str(why))
    except Exception as err:  # noqa: BLE001 - a section never fails the cycle; the page and the log say why
        if log is not None:
            log(f"pack section {key!r} failed: {type(err).__name__}: {err}")
        return Section(key, title, unavailable=f"could not be built ({type(err).__name__}: {err})")


def build_pack(con: duckdb.DuckDBPyConnection, cycle: date, currency: str = "EUR", log=None) -> Pack:
    """The cycle's pack from the warehouse (read-only connection)."""
    data = PackData(con, cycle, currency)
    try:
        summary = summary_sentences(data)
    except Unavailable as why:
        summary = [f"{why}."]
    except Exception as err:  # noqa: BLE001 - as for a section
        if log is not None:
            log(f"pack summary failed: {type(err).__name__}: {err}")
        summary = [f"The summary could not be built ({type(err).__name__}: {err})."]
    sections = [build_section(key, title, build, data, log) for key, title, build in SECTIONS]
    html = render(cycle=cycle, currency=currency, summary=summary, sections=sections,
                  forecast_only=data.forecast_only)
    return Pack(cycle, html, summary, sections)


def render(**context) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sop_pipeline.pack", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    context["by_key"] = {s.key: s for s in context["sections"]}
    return env.get_template("pack.html.j2").render(**context)


def pack_path(home: Path, cycle: date) -> Path:
    return home / "pack" / f"cycle={cycle.isoformat()}" / PACK_FILE


def write_pack(home: Path, pack: Pack) -> Path:
    """Write the page atomically: a reader never sees half a file, a failed write leaves the old one."""
    path = pack_path(home, pack.cycle)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.staged")
    staged.write_text(pack.html, encoding="utf-8")
    os.replace(staged, path)
    return path


def summary_markdown(pack: Pack) -> str:
    return "\n".join(f"- {sentence}" for sentence in pack.summary)
