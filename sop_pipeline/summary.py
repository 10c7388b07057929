"""The short summary printed after a cycle run: what ran, row counts, where the outputs are."""

from __future__ import annotations

from datetime import date

import polars as pl

from sop_pipeline.config import SopConfig
from sop_pipeline.forecast.fva import STEPS
from sop_pipeline.pack.page import pack_path
from sop_pipeline.publish import published_cycle
from sop_pipeline.supply.forecast_only import forecast_only_message, is_forecast_only
from sop_pipeline.warehouse import connect, fetch_frame, row_counts, table_columns

SUMMARY_SCHEMAS = ("raw", "marts", "sop", "quality")


def shown(value, spec: str, reason: str) -> str:
    """`value` formatted with `spec`, or 'unavailable (reason)' when it could not be computed: a summary
    line never fails on a score that does not exist (no backtest scores, no earlier plan, no actuals)."""
    if value is None or (isinstance(value, float) and value != value):
        return f"unavailable ({reason})"
    return format(value, spec)


def ratio(numerator, denominator):
    """numerator / denominator, or None when either is unknown or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def guarded(section, *args) -> str:
    """One section of the summary; if it cannot be computed, a line saying so instead of a crash (the run
    itself has succeeded and published by the time the summary is printed)."""
    title = section.__name__.removesuffix("_highlights").replace("_", " ").capitalize()
    try:
        return section(*args)
    except Exception as err:  # noqa: BLE001 - the summary is a report; the run's outcome is already decided
        return f"{title}: unavailable ({type(err).__name__}: {err})."


def materialised_assets(result) -> list[str]:
    """Asset keys the run materialised, as `a/b` strings in run order."""
    return [
        event.asset_key.to_user_string()
        for event in result.all_events
        if event.is_step_materialization and event.asset_key is not None
    ]


def fact_base_highlights(sop: SopConfig, forecast_only: bool = False) -> str:
    """Three lines a planner reads first: the catalogue's segments, censored and unknown history, open supply."""
    with connect(sop.warehouse_path, read_only=True) as con:
        skus, a, b, c, new = con.execute(
            "SELECT count(*), count(*) FILTER (abc_class = 'A'), count(*) FILTER (abc_class = 'B'), "
            "count(*) FILTER (abc_class = 'C'), count(*) FILTER (is_new) FROM marts.dim_products"
        ).fetchall()[0]
        stockout_skus, stockout_months, missing_skus, missing_months = con.execute(
            "SELECT count(DISTINCT sku) FILTER (is_stockout), "
            "count(DISTINCT sku || '|' || CAST(month AS VARCHAR)) FILTER (is_stockout), "
            "count(DISTINCT sku) FILTER (is_missing), "
            "count(DISTINCT sku || '|' || CAST(month AS VARCHAR)) FILTER (is_missing) FROM marts.fct_demand_monthly"
        ).fetchall()[0]
        open_units, late_units = con.execute(
            "SELECT coalesce(sum(open_units), 0), coalesce(sum(late_units), 0) FROM marts.fct_open_supply"
        ).fetchall()[0]
    history = []
    if missing_months:
        history.append(f"{missing_skus} SKUs with {missing_months} missing months (unknown, not zero)")
    if forecast_only:
        history.append("no stock counts")
    else:
        history += [f"{stockout_skus} SKUs with {stockout_months} stockout months (censored demand)",
                    f"{open_units:,.0f} units on open POs of which {late_units:,.0f} overdue"]
    return f"\nFact base: {skus} SKUs (A {a} / B {b} / C {c}; {new} new), " + ", ".join(history) + "."


def replay_highlights(sop: SopConfig, cycle: str) -> str:
    """The plan replay's verdict: what planning with the production forecast would have earned (docs/replay.md)."""
    with connect(sop.warehouse_path, read_only=True) as con:
        if not table_columns(con, "sop", "replay_summary"):
            return "Plan replay: not run for this cycle."
        verdicts = con.execute("SELECT DISTINCT verdict FROM sop.replay_summary WHERE cycle = ? AND verdict IS NOT NULL",
                               [cycle]).fetchall()
    return f"Plan replay: {verdicts[0][0]}" if verdicts else "Plan replay: no month to replay yet (too little history)."


def forecast_highlights(sop: SopConfig, cycle: str) -> str:
    """Which steps won, and what the chosen forecast gains over naive at lag 1 (total, backtest)."""
    with connect(sop.warehouse_path, read_only=True) as con:
        steps = con.execute(
            "SELECT step, count(DISTINCT sku) FROM sop.forecast WHERE cycle = ? GROUP BY 1 ORDER BY 2 DESC", [cycle]
        ).fetchall()
        lag1 = dict(con.execute(
            "SELECT step, wmape FROM sop.fva WHERE cycle = ? AND segment_type = 'total' AND lag = 1", [cycle]
        ).fetchall())
    used = ", ".join(f"{step} for {n} SKUs" for step, n in steps) or "no SKU forecast"
    scores = " → ".join(f"{step} {shown(lag1[step], '.1%', 'no scored month')}" for step in STEPS if step in lag1)
    return f"Forecast: {used}. Backtest WMAPE at lag 1 (total): {scores or 'unavailable (no backtest scores)'}."


def plan_highlights(sop: SopConfig, cycle: str) -> str:
    """The plan of record against the forecast, its state (draft or approved), what the planners changed, how
    earlier plans scored, and what each meeting of the last cycle added."""
    with connect(sop.warehouse_path, read_only=True) as con:
        # A home from before plan states: its plans count as approved, its scorecard has no meeting stages.
        stated = "plan_state" in table_columns(con, "sop", "demand_plan")
        staged = "wmape_demand_review" in table_columns(con, "sop", "plan_accuracy")
        state = [] if not stated else con.execute(
            "SELECT coalesce(plan_state, 'approved'), approved_by, strftime(approved_on, '%Y-%m-%d'), approved_scenario, "
            "(SELECT max(version) FROM sop.demand_plan d WHERE d.cycle = p.cycle AND d.plan_state = 'draft' "
            "AND d.version > p.version) FROM sop.demand_plan p WHERE cycle = ? AND is_current LIMIT 1",
            [cycle],
        ).fetchall()
        meetings = [] if not staged else con.execute(
            "SELECT strftime(plan_cycle, '%Y-%m'), plan_state, wmape_naive, wmape_forecast, wmape_demand_review, "
            "wmape_executive, forecast_worse, demand_review_worse, executive_worse FROM sop.plan_accuracy "
            "WHERE cycle = ? AND segment_type = 'total' AND lag = 1 ORDER BY plan_cycle DESC LIMIT 1",
            [cycle],
        ).fetchall()
        version, versions, forecast, consensus, uplift, overridden, frozen, seen = con.execute(
            "SELECT max(version) FILTER (is_current), count(DISTINCT version), sum(forecast) FILTER (is_current), "
            "sum(consensus) FILTER (is_current), sum(event_uplift) FILTER (is_current), "
            "count(*) FILTER (is_current AND override_type IS NOT NULL), "
            "count(*) FILTER (is_current AND is_frozen_change), "
            + ("count(*) FILTER (is_current AND event_ids IS NOT NULL AND event_uplift = 0) " if "event_ids" in
               table_columns(con, "sop", "demand_plan") else "0 ")
            + "FROM sop.demand_plan WHERE cycle = ?",
            [cycle],
        ).fetchall()[0]
        scored = con.execute(
            "SELECT count(DISTINCT plan_cycle), sum(abs(forecast - actual)) FILTER (NOT is_stockout), "
            "sum(abs(consensus - actual)) FILTER (NOT is_stockout), sum(actual) FILTER (NOT is_stockout) "
            "FROM sop.plan_vs_actual WHERE cycle = ?",
            [cycle],
        ).fetchall()[0]
    if version is None:
        return "Demand plan: unavailable (no plan locked for this cycle)."
    override = None if None in (consensus, forecast, uplift) else consensus - forecast - uplift
    lines = [
        f"Demand plan: version {version} of {versions}, "
        f"{plan_state_text(*(state[0] if state else ('approved', None, None, None, None)))}; "
        f"consensus {shown(consensus, ',.0f', 'no rows')} units "
        f"over the horizon = forecast {shown(forecast, ',.0f', 'no rows')} + events {shown(uplift, ',.0f', 'no rows')} "
        f"+ overrides {shown(override, '+,.0f', 'no rows')} ({overridden} SKU-months overridden, {frozen} "
        "frozen-fence changes)."
    ]
    if seen and not uplift:
        lines.append(f"Events add 0 units on top: the model (LightGBM) already sees the events of {seen} SKU-months "
                     "in its features, so adding their uplift again would count them twice.")
    plans, forecast_error, consensus_error, actual = scored
    if plans:
        gain = None if None in (forecast_error, consensus_error) else forecast_error - consensus_error
        why = "no unstockedout actuals yet"
        lines.append(
            f"Earlier plans: {plans} scored against actuals; WMAPE forecast "
            f"{shown(ratio(forecast_error, actual), '.1%', why)} → consensus "
            f"{shown(ratio(consensus_error, actual), '.1%', why)} (FVA of events and overrides "
            f"{shown(ratio(gain, actual), '+.1%', why)})."
        )
    if meetings:
        lines.append(meeting_value_text(*meetings[0]))
    return "\n".join(lines)


def plan_state_text(state: str, by: str | None, on: str | None, scenario: str | None, newer_draft: int | None) -> str:
    """'draft: not yet approved' or 'approved by X on D (scenario S)', and a draft awaiting re-approval."""
    if state != "approved":
        return "draft: not yet approved (sop approve --cycle YYYY-MM --scenario NAME --by NAME)"
    text = (f"approved by {by} on {on} (scenario {scenario})" if by else
            "approved (locked before plan states were recorded)")
    return text + (f"; a newer draft, version {newer_draft}, awaits approval" if newer_draft else "")


def meeting_value_text(plan_cycle: str, state: str, naive, forecast, demand_review, executive,
                       forecast_worse, demand_review_worse, executive_worse) -> str:
    """FVA of every meeting on the latest scored plan, at lag 1 (total), and the stages that made it worse."""
    why = "no scored month"
    stages = (f"naive {shown(naive, '.1%', why)} → forecast {shown(forecast, '.1%', why)} → demand review "
              f"{shown(demand_review, '.1%', why)} → executive "
              + (shown(executive, '.1%', why) if state == "approved" else "not scored (the plan was never approved)"))
    worse = [name for name, flag in (("the forecast", forecast_worse), ("the demand review", demand_review_worse),
                                     ("the executive meeting", executive_worse)) if flag]
    verdict = ("; made it worse beyond noise: " + ", ".join(worse)) if worse else "; no stage made it worse beyond noise"
    return f"Meetings' value added on the {plan_cycle} plan ({state}), WMAPE at lag 1: {stages}{verdict}."


def decision_highlights(sop: SopConfig, cycle: str) -> str:
    """Last meeting's decisions followed up: done, dropped, still open, overdue."""
    from sop_pipeline.plan.decisions import follow_up

    with connect(sop.warehouse_path, read_only=True) as con:
        log = fetch_frame(con, "SELECT * FROM sop.decisions WHERE cycle = ? ORDER BY decision_id", [cycle])
    if log.is_empty():
        return "Decisions: none recorded yet (`sop decide`, or a decisions/ file in the landing folder)."
    last = follow_up(log)
    still_open = log.filter(~pl.col("status").is_in(["done", "dropped"]))
    return (f"Decisions: last cycle's meeting took {last['taken']}: {last['done']} done, {last['dropped']} dropped, "
            f"{last['open']} open ({last['overdue']} overdue); {still_open.height} open in the whole log, "
            f"{int(still_open['is_overdue'].sum())} overdue.")


def scenario_highlights(sop: SopConfig, cycle: str) -> str:
    """The scenario grid, one line per scenario with its units, money and % labelled, the supplier behind each
    capacity peak, and the most severe exceptions of the central one."""
    with connect(sop.warehouse_path, read_only=True) as con:
        grid = con.execute(
            "SELECT scenario, demand_units, service_level, revenue, lost_revenue, ending_inventory_value, "
            "po_spend, lowest_cash_balance, funding_need, peak_capacity_use FROM sop.scenario_summary WHERE cycle = ?",
            [cycle],
        ).fetchall()
        peaks = dict(con.execute(
            "SELECT scenario, arg_max(supplier || ' ' || strftime(month, '%Y-%m'), utilisation) FROM sop.capacity_load "
            "WHERE cycle = ? AND utilisation IS NOT NULL GROUP BY scenario", [cycle]).fetchall())
        top = con.execute(
            "SELECT exception_type, sku, supplier, strftime(month, '%Y-%m'), severity, suggested_action "
            "FROM sop.exceptions WHERE cycle = ? AND scenario = 'central' ORDER BY severity DESC, sku LIMIT 5",
            [cycle],
        ).fetchall()
    currency = sop.currency
    lines = [f"\nScenarios ({currency} unless marked): demand (units) | fill rate | revenue | lost revenue | "
             "ending stock at cost | PO spend | lowest cash | funding need | peak capacity (supplier, month)"]
    for name, demand, service, revenue, lost, stock, spend, low, funding, capacity in grid:
        cells = [(demand, 9, ",.0f"), (service, 6, ".1%"), (revenue, 10, ",.0f"), (lost, 9, ",.0f"),
                 (stock, 9, ",.0f"), (spend, 9, ",.0f"), (low, 9, ",.0f"), (funding, 8, ",.0f"), (capacity, 5, ".0%")]
        # A measure that cannot be computed (no demand: no service level) shows as n/a, not as 0.
        lines.append(f"  {name:<12} " + " ".join(("n/a" if v is None else format(v, spec)).rjust(width)
                                              for v, width, spec in cells)
                     + (f" ({peaks[name]})" if peaks.get(name) else ""))
    if top:
        lines.append(f"Top exceptions (central, {currency} at stake):")
        lines += [f"  {kind:<19} {sku or supplier:<10} {month}  {shown(severity, '>10,.0f', 'no value')}  {action}"
                  for kind, sku, supplier, month, severity, action in top]
    return "\n".join(lines)


def print_brief(sop: SopConfig, cycle: str, result) -> None:
    """One line: the cycle ran, and where its pack is."""
    pack = pack_path(sop.home_path, date.fromisoformat(cycle))
    print(f"Cycle {cycle} complete: {len(materialised_assets(result))} assets materialised"
          + (f"; pack {pack}" if pack.exists() else "") + ".")


def print_summary(sop: SopConfig, cycle: str, result, verbose: bool = False) -> None:
    """What a planner reads after a run; the row count of every table only with `verbose`."""
    assets = materialised_assets(result)
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed_checks = [e for e in checks if not e.event_specific_data.passed]
    published = []
    if sop.serving_path.exists():  # a scenarios-only run in forecast-only mode has nothing to publish
        with connect(sop.serving_path, read_only=True) as con:
            published = row_counts(con, ("marts", "sop"))
    with connect(sop.warehouse_path, read_only=True) as con:
        warehouse = row_counts(con, SUMMARY_SCHEMAS)
        issues = con.execute(
            "SELECT count(*) FROM quality.data_quality_issues WHERE cycle = ?", [cycle]
        ).fetchall()[0][0]
        forecast_only = is_forecast_only(con, date.fromisoformat(cycle))

    print(f"\nCycle {cycle} complete: {len(assets)} assets materialised, "
          f"{len(checks) - len(failed_checks)}/{len(checks)} checks passed, {issues} input issues.")
    for event in failed_checks:
        print(f"WARNING [{event.event_specific_data.check_name}] {event.event_specific_data.description or ''}")
    print(guarded(fact_base_highlights, sop, forecast_only))
    print(guarded(forecast_highlights, sop, cycle))
    print(guarded(replay_highlights, sop, cycle))
    print(guarded(plan_highlights, sop, cycle))
    print(guarded(decision_highlights, sop, cycle))
    if forecast_only:
        message = forecast_only_message(sop.landing_path)
        print(f"\n{message[0].upper()}{message[1:]}.")
    else:
        print(guarded(scenario_highlights, sop, cycle))
    if verbose:
        print("\nTables (rows):")
        for schema, table, rows in warehouse:
            if schema != "quality":
                print(f"  {schema + '.' + table:<42} {rows:>10,}")
    print("\nOutputs:")
    print(f"  warehouse        {sop.warehouse_path}")
    newest = published_cycle(sop.serving_path)
    if newest is not None and newest != cycle:
        print(f"  BI copy          {sop.serving_path} not updated: it keeps the newer cycle {newest} (a backfill of an "
              f"older cycle publishes its Parquet exports only, so dashboards never step back in time)")
    else:
        print(f"  BI copy          {sop.serving_path} ({len(published)} tables, read-only)")
    print(f"  Parquet exports  {sop.exports_path / f'cycle={cycle}'}")
    print(f"  data quality     {sop.reports_path / f'data_quality_{cycle}.csv'}")
    pack = pack_path(sop.home_path, date.fromisoformat(cycle))
    if pack.exists():
        print(f"  executive pack   {pack} (open it in a browser; also in the exports)")
    print("\nOpen the Dagster UI with `make ui` (http://127.0.0.1:3000) to see lineage and rerun steps.")
