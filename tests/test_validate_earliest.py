"""Dates before the earliest input date (SOP_HISTORY_YEARS before the cycle) are typos, except master-data dates."""

from __future__ import annotations

import copy
from datetime import date

from sop_pipeline.cli import main
from sop_pipeline.ingest.validate import EarliestDate, load_inputs

from conftest import AS_OF, TINY_LANDING, write_landing

EARLIEST = date(2016, 11, 1)  # the November 2026 cycle, 10 years of history
RULE = "before the earliest date 2016-11-01 (SOP_HISTORY_YEARS=10 years before the cycle)"


def test_the_tiny_landing_is_inside_the_history(tiny_landing):
    assert load_inputs(tiny_landing, AS_OF, EARLIEST, 10).violations == []


def _one_day_too_early(tmp_path):
    """Every date column set one day (or month) before the earliest date, consistently across columns."""
    data = copy.deepcopy(TINY_LANDING)
    day, month = "2016-10-31", "2016-10-01"
    data["sales"]["date"][0] = day
    data["missing_months"]["month"][0] = month
    data["inventory"]["snapshot_date"][0] = day
    data["purchase_orders"].update(order_date=[day], expected_date=[day], received_date=[day])
    data["events"].update(start_date=[day], end_date=[day])
    data["overrides"].update(cycle=[month], month=[month])
    data["budget"]["month"][0] = month
    data["products"]["launch_date"] = ["1990-01-01", "1995-06-01"]  # long-lived SKUs: legitimate
    data["products"]["discontinue_date"][1] = "2001-12-31"
    data["products"]["status"][1] = "discontinued"
    return write_landing(tmp_path / "landing", data)


def test_every_transactional_date_column_is_bounded_but_product_dates_are_not(tmp_path):
    result = load_inputs(_one_day_too_early(tmp_path), AS_OF, EARLIEST, 10)
    assert {v.rule for v in result.violations} == {RULE}
    assert [(v.file, v.row, v.column) for v in result.violations] == [
        ("budget/budget.csv", 2, "month"),
        ("events/events.csv", 2, "end_date"),
        ("events/events.csv", 2, "start_date"),
        ("inventory/inventory.csv", 2, "snapshot_date"),
        ("missing_months/missing_months.csv", 2, "month"),
        ("overrides/overrides.csv", 2, "cycle"),
        ("overrides/overrides.csv", 2, "month"),
        ("purchase_orders/purchase_orders.csv", 2, "expected_date"),
        ("purchase_orders/purchase_orders.csv", 2, "order_date"),
        ("purchase_orders/purchase_orders.csv", 2, "received_date"),
        ("sales/sales.csv", 2, "date"),
    ]
    assert result.violations[-1].value == "2016-10-31"


def test_the_earliest_date_itself_is_allowed(tmp_path):
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["date"][0] = "2016-11-01"
    assert load_inputs(write_landing(tmp_path / "landing", data), AS_OF, EARLIEST, 10).violations == []


def test_without_an_earliest_date_nothing_is_bounded(tmp_path):
    """`sop import-series` reads public series going back decades; it passes no bound."""
    assert load_inputs(_one_day_too_early(tmp_path), AS_OF).violations == []


def test_the_rule_names_the_setting_even_without_its_value():
    assert EarliestDate(EARLIEST).rule == "before the earliest date 2016-11-01 (set by SOP_HISTORY_YEARS)"


def test_sop_validate_bounds_dates_by_the_cycle_of_the_as_of_month(tmp_path, capsys, monkeypatch):
    """As of 21 November 2026 with 2 years of history, the earliest date is 1 November 2024."""
    monkeypatch.setenv("SOP_AS_OF", "2026-11-21")
    monkeypatch.setenv("SOP_HISTORY_YEARS", "2")
    data = copy.deepcopy(TINY_LANDING)
    data["sales"]["date"][1] = "2024-10-31"
    data["sales"]["date"][2] = "2024-11-01"
    assert main(["validate", "--data", str(write_landing(tmp_path / "landing", data))]) == 1
    err = capsys.readouterr().err
    assert ("sales/sales.csv, row 3, column 'date': before the earliest date 2024-11-01 "
            "(SOP_HISTORY_YEARS=2 years before the cycle) (value: '2024-10-31')") in err
    assert "row 4" not in err
