"""The pack's charts: Altair (Vega-Lite) specifications rendered to inline SVG by vl-convert.

No browser and no network: vl-convert runs Vega in-process, and the SVG it returns is written into the
page as it is, so a chart prints, weighs a few kilobytes and diffs as text. Each function takes a small,
already aggregated polars frame (the page module reads the tables) and returns SVG markup; the same frame
gives the same bytes. Dates go in as ISO strings so that the spec does not depend on the local time zone.

Altair names selections and views with a process-wide counter; these charts use neither, so rendering a
pack twice in one process gives the same page.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# One palette for the page: the plan's colour, actuals, risk and the scenarios.
PLAN, ACTUAL, BAND, RISK, GOOD, MUTED = "#1f5fa8", "#222222", "#9ec3ea", "#c0392b", "#2e8b57", "#8a8a8a"
SCENARIO_COLOURS = ("#2e8b57", "#1f5fa8", "#d9822b", "#7b5ea7", "#8a8a8a", "#b5651d")
PANEL_WIDTH, PANEL_HEIGHT = 230, 120


def to_svg(chart) -> str:
    """Render an Altair chart to an SVG string (vl-convert, in-process)."""
    import vl_convert

    spec = (
        chart.configure_view(stroke=None)
        .configure_axis(labelFontSize=10, titleFontSize=10, labelColor="#333", titleColor="#333", grid=True,
                        gridColor="#eeeeee")
        .configure_header(labelFontSize=11, labelFontWeight="bold", titleFontSize=0)
        .configure_legend(labelFontSize=10, titleFontSize=10, orient="bottom")
        .configure_title(fontSize=12, anchor="start")
        .to_dict()
    )
    svg = vl_convert.vegalite_to_svg(spec)
    # The root element says what it shows, for screen readers and for the page's tests.
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _iso(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String) for c in columns if c in frame.columns)


def _month_axis(title: str | None = None):
    import altair as alt

    return alt.X("month:T", title=title, axis=alt.Axis(format="%b %y", labelAngle=0, tickCount=6))


def demand_fan(frame: pl.DataFrame) -> str:
    """History and the plan's p10–p90 fan, one panel per series (`series, month, actual, plan, p10, p90`)."""
    import altair as alt

    data = _iso(frame, "month")
    base = alt.Chart(data).encode(_month_axis())
    band = base.mark_area(color=BAND, opacity=0.45).encode(
        y=alt.Y("p10:Q", title="units"), y2="p90:Q")
    plan = base.mark_line(color=PLAN, strokeDash=[5, 3], strokeWidth=2).encode(y="plan:Q")
    actual = base.mark_line(color=ACTUAL, strokeWidth=1.5).encode(y="actual:Q")
    layered = alt.layer(band, plan, actual).properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    return to_svg(layered.facet(
        facet=alt.Facet("series:N", title=None, sort=list(dict.fromkeys(data["series"].to_list()))), columns=2,
    ).resolve_scale(y="independent"))


def inventory_vs_safety(frame: pl.DataFrame, currency: str) -> str:
    """Projected stock against safety stock, at cost, one panel per family (`family, month, measure, value`)."""
    import altair as alt

    data = _iso(frame, "month")
    chart = alt.Chart(data).mark_line(strokeWidth=2).encode(
        _month_axis(),
        y=alt.Y("value:Q", title=f"{currency} at cost"),
        color=alt.Color("measure:N", title=None,
                        scale=alt.Scale(domain=["projected stock", "safety stock"], range=[PLAN, RISK])),
        strokeDash=alt.StrokeDash("measure:N", legend=None,
                                  scale=alt.Scale(domain=["projected stock", "safety stock"], range=[[1, 0], [4, 3]])),
    ).properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    return to_svg(chart.facet(facet=alt.Facet("family:N", title=None), columns=2).resolve_scale(y="independent"))


def cash_curve(frame: pl.DataFrame, currency: str, scenarios: Sequence[str]) -> str:
    """The cumulative cash need by scenario and month, one panel per measure (`measure, scenario, month, value`)."""
    import altair as alt

    data = _iso(frame, "month")
    chart = alt.Chart(data).mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=18)).encode(
        _month_axis(),
        y=alt.Y("value:Q", title=currency),
        color=alt.Color("scenario:N", title="scenario",
                        scale=alt.Scale(domain=list(scenarios), range=list(SCENARIO_COLOURS[:len(scenarios)]))),
    ).properties(width=PANEL_WIDTH + 60, height=PANEL_HEIGHT + 20)
    rule = alt.Chart(data).mark_rule(color=MUTED, strokeDash=[2, 2]).encode(y=alt.datum(0))
    return to_svg(alt.layer(chart, rule).facet(
        facet=alt.Facet("measure:N", title=None, sort=list(dict.fromkeys(data["measure"].to_list()))), columns=2,
    ).resolve_scale(y="independent"))


def capacity_load(frame: pl.DataFrame) -> str:
    """Receipts against capacity per supplier and month (`supplier, month, load, capacity, is_overloaded`)."""
    import altair as alt

    data = _iso(frame, "month")
    base = alt.Chart(data).encode(_month_axis())
    bars = base.mark_bar(size=10).encode(
        y=alt.Y("load:Q", title="units received"),
        color=alt.Color("is_overloaded:N", title=None, legend=alt.Legend(labelExpr="datum.value ? 'over capacity' : 'within capacity'"),
                        scale=alt.Scale(domain=[False, True], range=[PLAN, RISK])),
    )
    limit = base.mark_line(color=ACTUAL, strokeDash=[4, 3], interpolate="step-after").encode(y="capacity:Q")
    layered = alt.layer(bars, limit).properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    return to_svg(layered.facet(facet=alt.Facet("supplier:N", title=None), columns=2).resolve_scale(y="independent"))


def kpi_trends(panels: Sequence[tuple[str, pl.DataFrame, str]]) -> str:
    """One small panel per KPI (`label, frame of period and value, d3 number format`), each on its own scale
    and in its own unit, three to a row. A KPI with one period so far shows as a labelled point."""
    import altair as alt

    charts = []
    for label, frame, number_format in panels:
        data = _iso(frame, "period")
        base = alt.Chart(data, title=label).encode(
            x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %y", labelAngle=0, tickCount=4)),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(format=number_format)),
        )
        layers = [base.mark_line(color=PLAN, strokeWidth=1.5, point=alt.OverlayMarkDef(size=14))]
        if data.height == 1:
            layers.append(base.mark_text(dy=-10, fontSize=10).encode(text=alt.Text("value:Q", format=number_format)))
        charts.append(alt.layer(*layers).properties(width=PANEL_WIDTH - 60, height=PANEL_HEIGHT - 40))
    return to_svg(alt.concat(*charts, columns=3))


def fva_scorecard(frame: pl.DataFrame, steps: Sequence[str]) -> str:
    """WMAPE of each process step with its 90 % interval, one panel per lag (`lag, step, wmape, low, high`)."""
    import altair as alt

    data = frame.with_columns(pl.format("lag {}", pl.col("lag")).alias("panel"))
    base = alt.Chart(data).encode(y=alt.Y("step:N", sort=list(steps), title=None))
    bars = base.mark_bar(color=PLAN, opacity=0.8).encode(x=alt.X("wmape:Q", title="WMAPE (lower is better)",
                                                                 axis=alt.Axis(format="%")))
    whiskers = base.mark_rule(color=ACTUAL).encode(x="low:Q", x2="high:Q")
    layered = alt.layer(bars, whiskers).properties(width=PANEL_WIDTH, height=22 * len(steps))
    return to_svg(layered.facet(column=alt.Column("panel:N", title=None)))


def replay_tradeoff(frame: pl.DataFrame, currency: str, policies: Sequence[str]) -> str:
    """Average stock at cost against fill rate, one curve per replayed policy over the service targets
    (`policy, fill_rate, avg_inventory_value`, sorted by fill rate): a curve lower and further right holds
    more service with less stock."""
    import altair as alt

    colours = dict(zip(policies, SCENARIO_COLOURS))
    chart = alt.Chart(frame.to_pandas()).mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=22)).encode(
        x=alt.X("fill_rate:Q", title="fill rate", axis=alt.Axis(format=".1~%"), scale=alt.Scale(zero=False)),
        y=alt.Y("avg_inventory_value:Q", title=f"average stock ({currency} at cost)", axis=alt.Axis(format="~s")),
        color=alt.Color("policy:N", title="plan", scale=alt.Scale(domain=list(colours), range=list(colours.values()))),
        order="fill_rate:Q",
    ).properties(width=2 * PANEL_WIDTH, height=PANEL_HEIGHT + 60)
    return to_svg(chart)


def waterfall(frame: pl.DataFrame, title: str) -> str:
    """A bridge as a waterfall (`label, start, end, kind` in order; kind: level, up, down)."""
    import altair as alt

    # The levels are drawn from a baseline just below the lowest running total, not from 0: from 0 the
    # causes of a month's change would be slivers on bars of a year's demand (the caption says so).
    low = frame.filter(pl.col("kind") != "level").select(pl.min_horizontal("start", "end").min()).item()
    levels = frame.filter(pl.col("kind") == "level")["end"]
    low = min(x for x in (low, levels.min()) if x is not None)
    high = max(frame["start"].max(), frame["end"].max())
    baseline = max(0.0, low - 0.15 * max(high - low, abs(high) * 0.01))
    data = frame.with_columns(
        pl.when(pl.col("kind") == "level").then(pl.lit(baseline)).otherwise(pl.col("start")).alias("start"))
    base = alt.Chart(data).encode(x=alt.X("label:N", sort=data["label"].to_list(), title=None,
                                          axis=alt.Axis(labelAngle=-35, labelLimit=120)))
    bars = base.mark_bar(size=26).encode(
        y=alt.Y("start:Q", title=title, scale=alt.Scale(zero=False)), y2="end:Q",
        color=alt.Color("kind:N", legend=None,
                        scale=alt.Scale(domain=["level", "up", "down"], range=[MUTED, GOOD, RISK])),
    )
    return to_svg(bars.properties(width=max(360, 46 * data.height), height=200))
