"""The replay in a terminal: what `sop replay` prints."""

from __future__ import annotations

import polars as pl

from sop_pipeline.replay.engine import Replay
from sop_pipeline.replay.policies import POLICY_LABELS
from sop_pipeline.replay.score import equal_service


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def replay_lines(result: Replay, currency: str) -> list[str]:
    """The configured levels' scores per policy, the trade-off curves, the stock at the target fill rate,
    the verdict and the notes, as lines of text."""
    summary = result.summary
    configured = summary.filter(pl.col("service_target").is_null())
    first, last = result.months[0], result.months[-1]
    skus = int(configured["skus"].max() or 0) if configured.height else 0
    target = configured["target_fill_rate"].drop_nulls().max() if configured.height else None
    lines = [f"Plan replay of {first:%Y-%m} to {last:%Y-%m} ({len(result.months)} months, {skus} SKUs)", "",
             f"At the configured service levels (target fill rate {_pct(target)}):",
             f"  {'policy':<20} {'fill rate':>9} {'avg stock ' + currency:>15} {'lost revenue':>13} "
             f"{'total cost':>12} {'turns':>6}"]
    for row in configured.iter_rows(named=True):
        turns = "n/a" if row["turns"] is None else f"{row['turns']:.1f}"
        lines.append(f"  {POLICY_LABELS[row['policy']]:<20} {_pct(row['fill_rate']):>9} "
                     f"{_money(row['avg_inventory_value']):>15} {_money(row['lost_revenue']):>13} "
                     f"{_money(row['total_cost']):>12} {turns:>6}")
    targets = summary["service_target"].drop_nulls().unique().sort().to_list()
    if targets:
        lines += ["", "Trade-off: average stock at cost (fill rate) by service target:",
                  f"  {'policy':<20} " + " ".join(f"{t * 100:>21.0f}%" for t in targets)]
        for policy in configured["policy"].to_list():
            cells = []
            for t in targets:
                row = summary.filter((pl.col("policy") == policy) & (pl.col("service_target") == t)).row(0, named=True)
                cells.append(f"{_money(row['avg_inventory_value'])} ({_pct(row['fill_rate'])})".rjust(22))
            lines.append(f"  {POLICY_LABELS[policy]:<20} " + " ".join(cells))
        lines += ["", f"Stock needed for the target fill rate ({_pct(target)}), read off each curve:"]
        for policy, _, stock, saving in equal_service(summary).iter_rows():
            curve = summary.filter((pl.col("policy") == policy) & pl.col("fill_rate").is_not_null()).sort("fill_rate")
            if stock is not None:
                said = _money(stock)
            elif target is not None and curve.height and curve["fill_rate"][0] > target:
                said = (f"above it at every target (lowest: {_pct(curve['fill_rate'][0])} with "
                        f"{_money(curve['avg_inventory_value'][0])})")
            else:
                said = f"never reached (at most {_pct(curve['fill_rate'][-1] if curve.height else None)})"
            if saving is not None and policy != "naive":
                said += f" ({_pct(abs(saving))} {'less' if saving >= 0 else 'more'} than naive)"
            lines.append(f"  {POLICY_LABELS[policy]:<20} {said}")
    lines += ["", result.verdict]
    if result.notes:
        lines += ["", "Notes:", *[f"  - {note}" for note in result.notes]]
    return lines


def print_replay(result: Replay, currency: str, seconds: float, reused: int, folds: int) -> None:
    for line in replay_lines(result, currency):
        print(line)
    print(f"\n{seconds:.0f} s; {reused} of {folds} forecast folds reused from the home's cache")
