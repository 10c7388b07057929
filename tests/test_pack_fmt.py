"""The pack's number formats: one place, checked on values a person would read."""

from datetime import date

from sop_pipeline.pack import fmt


def test_units_are_whole_with_thousands_separators():
    assert fmt.units(1234567.4) == "1,234,567"
    assert fmt.units(-1500) == "-1,500"
    assert fmt.units(1500, signed=True) == "+1,500"
    assert fmt.units(None) == "n/a"
    assert fmt.units(float("nan")) == "n/a"


def test_money_carries_the_currency_and_its_sign_before_the_symbol():
    assert fmt.money(12345.6) == "€12,346"
    assert fmt.money(-1200, "USD") == "-$1,200"
    assert fmt.money(3400, "GBP", signed=True) == "+£3,400"
    assert fmt.money(5, "CHF") == "CHF 5"
    assert fmt.money(1_234_000, compact=True) == "€1.2M"
    assert fmt.money(340_400, compact=True) == "€340k"
    assert fmt.money(9_999, compact=True) == "€9,999"
    assert fmt.money(0, signed=True) == "€0"
    assert fmt.money(None) == "n/a"


def test_shares_and_points():
    assert fmt.pct(0.1234) == "12.3%"
    assert fmt.pct(0.05, signed=True) == "+5.0%"
    assert fmt.pct(1.0, 0) == "100%"
    assert fmt.points(0.024) == "+2.4 pts"
    assert fmt.points(-0.1) == "-10.0 pts"
    assert fmt.number(4.26, 1) == "4.3"
    assert fmt.number(12345.0, 0) == "12,345"
    assert fmt.month(date(2026, 11, 1)) == "Nov 2026"


def test_change_is_undefined_without_a_base():
    assert abs(fmt.change(110, 100) - 0.1) < 1e-12
    assert fmt.change(5, 0) is None
    assert fmt.change(None, 3) is None
