"""The summary printed after a run never crashes: what cannot be computed prints as unavailable, with why."""

from sop_pipeline.config import SopConfig
from sop_pipeline.summary import forecast_highlights, guarded, plan_highlights, ratio, replay_highlights, shown
from sop_pipeline.warehouse import connect

CYCLE = "2026-11-01"


def _home(tmp_path) -> SopConfig:
    """A warehouse whose cycle has a forecast but no backtest score and no plan scored yet."""
    sop = SopConfig(home=str(tmp_path))
    with connect(sop.warehouse_path) as con:
        con.execute("CREATE SCHEMA sop")
        con.execute("CREATE TABLE sop.forecast AS SELECT DATE '2026-11-01' AS cycle, 'A-1' AS sku, 'naive' AS step")
        con.execute("CREATE TABLE sop.fva (cycle DATE, segment_type VARCHAR, lag INT, step VARCHAR, wmape DOUBLE)")
        con.execute("INSERT INTO sop.fva VALUES ('2026-11-01', 'total', 1, 'naive', NULL)")
        con.execute("CREATE TABLE sop.demand_plan (cycle DATE, version INT, is_current BOOLEAN, forecast DOUBLE, "
                    "consensus DOUBLE, event_uplift DOUBLE, override_type VARCHAR, is_frozen_change BOOLEAN)")
        con.execute("CREATE TABLE sop.plan_vs_actual (cycle DATE, plan_cycle DATE, forecast DOUBLE, "
                    "consensus DOUBLE, actual DOUBLE, is_stockout BOOLEAN)")
    return sop


def test_a_cycle_without_backtest_scores_prints_them_as_unavailable(tmp_path):
    """The run used to publish, then crash in this line with 'unsupported format string passed to NoneType'."""
    line = forecast_highlights(_home(tmp_path), CYCLE)
    assert line == "Forecast: naive for 1 SKUs. Backtest WMAPE at lag 1 (total): naive unavailable (no scored month)."


def test_a_cycle_without_a_locked_plan_says_so(tmp_path):
    assert plan_highlights(_home(tmp_path), CYCLE) == "Demand plan: unavailable (no plan locked for this cycle)."


def test_the_replay_line_is_the_cycles_verdict_or_says_why_there_is_none(tmp_path):
    sop = _home(tmp_path)
    assert replay_highlights(sop, CYCLE) == "Plan replay: not run for this cycle."
    with connect(sop.warehouse_path) as con:
        con.execute("CREATE TABLE sop.replay_summary (cycle DATE, policy VARCHAR, verdict VARCHAR)")
        con.execute("INSERT INTO sop.replay_summary VALUES ('2026-10-01', 'naive', 'October said so.')")
    assert replay_highlights(sop, CYCLE) == "Plan replay: no month to replay yet (too little history)."
    with connect(sop.warehouse_path) as con:
        con.execute("INSERT INTO sop.replay_summary VALUES ('2026-11-01', 'naive', 'Planned well.'), "
                    "('2026-11-01', 'production', 'Planned well.')")
    assert replay_highlights(sop, CYCLE) == "Plan replay: Planned well."


def test_a_section_that_fails_becomes_one_line_with_its_reason(tmp_path):
    def scenario_highlights():
        raise KeyError("central")

    assert guarded(scenario_highlights) == "Scenario: unavailable (KeyError: 'central')."


def test_shown_and_ratio_handle_missing_values():
    assert shown(0.1234, ".1%", "why") == "12.3%"
    assert shown(None, ".1%", "no actuals") == "unavailable (no actuals)"
    assert shown(float("nan"), ",.0f", "no rows") == "unavailable (no rows)"
    assert ratio(3, 4) == 0.75 and ratio(3, 0) is None and ratio(None, 4) is None
