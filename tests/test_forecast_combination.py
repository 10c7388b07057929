"""The combination step: which methods each demand pattern averages, and the average itself."""

from datetime import date
from itertools import permutations

import polars as pl

from sop_pipeline.cycle import add_months
from sop_pipeline.forecast.cycle_forecast import combine, combined_methods, patterns_at_origins

ORIGIN = date(2025, 1, 1)
PATTERNS = pl.DataFrame({"sku": ["A", "B"], "pattern": ["smooth", "lumpy"]})


def _scored(errors: dict[str, dict[str, float]]) -> pl.DataFrame:
    """Backtest rows: every SKU sells 10 in months 1 and 2; `errors[sku][method]` is the method's miss."""
    return pl.DataFrame([
        {"sku": sku, "origin": ORIGIN, "month": date(2025, lag, 1), "lag": lag, "actual": 10.0,
         "is_stockout": False, "method": method, "forecast": 10.0 + miss, "scale": 2.0}
        for sku, misses in errors.items() for method, miss in misses.items() for lag in (1, 2)
    ])


def test_each_pattern_combines_its_own_best_methods_by_mase():
    scored = _scored({
        "A": {"naive": 4.0, "theta": 1.0, "lightgbm": 2.0, "tsb": 3.0, "adida": 5.0},
        "B": {"naive": 5.0, "theta": 4.0, "lightgbm": 3.0, "tsb": 1.0, "adida": 2.0},
    })
    combined = combined_methods(scored, PATTERNS, n=2)
    by_pattern = {p: g["method"].to_list() for (p,), g in combined.group_by("pattern", maintain_order=True)}
    assert by_pattern["smooth"] == ["theta", "lightgbm"]  # A's misses: 1, 2
    assert by_pattern["lumpy"] == ["tsb", "adida"]  # B's misses: 1, 2
    # Over both SKUs: theta (1+4)/2 = 2.5, lightgbm 2.5, tsb 2.0, adida 3.5 (MASE halves each; the order holds).
    assert by_pattern["total"] == ["tsb", "lightgbm"]  # ties on MASE go to the lower WMAPE, then the name


def test_the_combination_is_the_mean_of_the_members_where_all_of_them_forecast():
    forward = pl.DataFrame({
        "sku": ["A"] * 5 + ["B"] * 2,
        "month": [ORIGIN] * 3 + [date(2025, 2, 1)] * 2 + [ORIGIN] * 2,
        "method": ["theta", "lightgbm", "naive", "theta", "naive", "tsb", "adida"],
        "forecast": [10.0, 14.0, 99.0, 8.0, 1.0, 3.0, 6.0],
    })
    combined = pl.DataFrame({"pattern": ["smooth", "smooth", "lumpy", "lumpy"],
                             "method": ["theta", "lightgbm", "tsb", "adida"]})
    out = combine(forward, PATTERNS, combined, ["sku", "month"])
    assert out.rows() == [("A", ORIGIN, "combination", 12.0), ("B", ORIGIN, "combination", 4.5)]
    # A's February has only theta of its two members: no combination rather than a one-method one.


def test_a_sku_without_a_scored_pattern_takes_the_catalogues_members():
    forward = pl.DataFrame({"sku": ["C", "C"], "month": [ORIGIN, ORIGIN], "method": ["theta", "naive"],
                            "forecast": [4.0, 8.0]})
    combined = pl.DataFrame({"pattern": ["total", "total"], "method": ["theta", "naive"]})
    assert combine(forward, PATTERNS, combined, ["sku", "month"])["forecast"].to_list() == [6.0]


def test_the_combination_does_not_depend_on_the_order_of_its_rows():
    """The mean of 0.1, 0.2 and 2.2 differs in the last bit by the order of the additions; the published
    plan must not, so a rerun of a cycle gives byte-identical tables whatever order the rows arrived in."""
    rows = [("A", ORIGIN, "theta", 0.1), ("A", ORIGIN, "lightgbm", 0.2), ("A", ORIGIN, "tsb", 2.2)]
    combined = pl.DataFrame({"pattern": ["smooth"] * 3, "method": ["theta", "lightgbm", "tsb"]})
    schema = {"sku": pl.String, "month": pl.Date, "method": pl.String, "forecast": pl.Float64}
    results = {
        combine(pl.DataFrame(list(order), schema=schema, orient="row"), PATTERNS, combined, ["sku", "month"])
        ["forecast"].item().hex()
        for order in permutations(rows)
    }
    assert len(results) == 1
    assert abs(float.fromhex(results.pop()) - 2.5 / 3) < 1e-15


def test_each_backtest_origin_combines_by_the_pattern_known_then():
    """A SKU sells 10 every month for a year, then once every three months: smooth at the first origin,
    intermittent at the later one. The backtest must not use what the later months revealed."""
    months = [add_months(date(2024, 1, 1), i) for i in range(24)]
    units = [10.0] * 12 + [10.0 if i % 3 == 0 else 0.0 for i in range(12)]
    history = pl.DataFrame({"sku": "A", "month": months, "units": units})
    early, late = date(2025, 1, 1), date(2026, 1, 1)
    then = patterns_at_origins(history, [early, late])
    assert dict(zip(then["origin"], then["pattern"])) == {early: "smooth", late: "intermittent"}
    combined = pl.DataFrame({"pattern": ["smooth", "intermittent"], "method": ["theta", "tsb"]})
    forecasts = pl.DataFrame({
        "sku": "A", "origin": [early, early, late, late], "month": [early, early, late, late],
        "method": ["theta", "tsb", "theta", "tsb"], "forecast": [9.0, 3.0, 8.0, 4.0],
    })
    out = combine(forecasts, then, combined, ["sku", "origin", "month"])
    assert out.select("origin", "forecast").rows() == [(early, 9.0), (late, 4.0)]


def test_a_sku_with_fewer_than_six_months_of_history_is_forecast_by_the_global_model():
    from sop_pipeline.forecast.cycle_forecast import production_methods

    rows = pl.DataFrame({"sku": ["A", "A", "B"], "origin": [ORIGIN, date(2025, 2, 1), ORIGIN],
                         "months_of_history": [5, 6, 30]})
    chosen = pl.DataFrame({"sku": ["A", "A", "B"], "origin": [ORIGIN, date(2025, 2, 1), ORIGIN],
                           "step": ["statistical"] * 3, "method": ["adida", "adida", "theta"]})
    picked = production_methods(rows, chosen).sort("sku", "origin")
    # A has 5 months at January: new, so the global model; with 6 in February it takes its pattern's champion.
    assert picked["method"].to_list() == ["lightgbm", "adida", "theta"]
