"""The demo generator writes the landing contract exactly, deterministically, with the situations the
pipeline must handle: censored stockouts, near-stockout and excess stock, late and future purchase orders, and
past cycles' overrides whose value a backtest can measure."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from sop_pipeline.cycle import add_months
from sop_pipeline.demo import generate
from sop_pipeline.demo.generate import generate_demo
from sop_pipeline.ingest.contract import DATASETS, DATASETS_BY_NAME, INVENTORY, OVERRIDES, PRODUCTS, PURCHASE_ORDERS
from sop_pipeline.ingest.validate import load_inputs

CYCLE = date(2025, 3, 1)  # not the default, to prove every date follows the argument
SKUS, MONTHS, SEED = 40, 24, 3
PAST_CYCLES = 12


def _read(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / name / f"{name}.csv", try_parse_dates=True)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "landing"
    counts = generate_demo(folder, skus=SKUS, months=MONTHS, seed=SEED, cycle=CYCLE)
    assert list(counts) == [d.name for d in DATASETS]
    assert all(counts[name] == _read(folder, name).height for name in counts)
    return folder


@pytest.fixture(scope="module")
def data(landing) -> dict[str, pl.DataFrame]:
    return {d.name: _read(landing, d.name) for d in DATASETS}


def _current_overrides(data) -> pl.DataFrame:
    return data["overrides"].filter(pl.col("cycle") == CYCLE)


def _past_overrides(data) -> pl.DataFrame:
    return data["overrides"].filter(pl.col("cycle") < CYCLE)


def _month_end_stock(data) -> pl.DataFrame:
    return data["inventory"].group_by("snapshot_date", "sku").agg(pl.col("on_hand").sum())


def test_same_seed_gives_identical_files_and_another_seed_other_sales(landing, tmp_path):
    again = tmp_path / "again"
    generate_demo(again, skus=SKUS, months=MONTHS, seed=SEED, cycle=CYCLE)
    for dataset in DATASETS:
        relative = Path(dataset.name) / f"{dataset.name}.csv"
        assert (again / relative).read_bytes() == (landing / relative).read_bytes(), dataset.name
    other = tmp_path / "other"
    generate_demo(other, skus=SKUS, months=MONTHS, seed=SEED + 1, cycle=CYCLE)
    assert (other / "sales" / "sales.csv").read_bytes() != (landing / "sales" / "sales.csv").read_bytes()


def test_every_header_is_the_contract_in_order(landing):
    for dataset in DATASETS:
        header = (landing / dataset.name / f"{dataset.name}.csv").read_text().splitlines()[0]
        assert header.split(",") == dataset.column_names, dataset.name


def test_the_project_validator_accepts_every_file(landing):
    result = load_inputs(landing, CYCLE - timedelta(days=1))
    assert result.violations == []


def test_sales_cover_exactly_the_full_months_before_the_cycle(data):
    sales = data["sales"]
    assert sales["date"].max() < CYCLE
    assert sales["date"].min() >= add_months(CYCLE, -MONTHS)
    months = sales["date"].dt.truncate("1mo").unique()
    assert months.len() == MONTHS
    assert (sales["quantity"] > 0).all() and (sales["net_revenue"] >= 0).all()
    assert sales["order_id"].n_unique() == sales.height
    assert set(sales["channel"].unique()) == {"DTC", "Wholesale", "Marketplace"}


def test_sales_stay_inside_each_skus_selling_window(data):
    sales = data["sales"].join(data["products"], on="sku", how="left")
    assert sales["launch_date"].null_count() == 0  # every sold SKU is a product
    assert sales.filter(pl.col("date") < pl.col("launch_date")).is_empty()
    assert sales.filter(pl.col("date") > pl.col("discontinue_date")).is_empty()
    discontinued = data["products"].filter(pl.col("status") == "discontinued")
    assert discontinued.height > 0 and (discontinued["discontinue_date"] < CYCLE).all()
    phase_out = data["products"].filter(pl.col("status") == "phase_out")
    assert phase_out.height > 0 and (phase_out["discontinue_date"] >= CYCLE).all()
    active = data["products"].filter(pl.col("status") == "active")
    assert active["discontinue_date"].null_count() == active.height


def test_nothing_but_plans_is_dated_on_or_after_the_cycle(data):
    assert data["inventory"]["snapshot_date"].max() == CYCLE - timedelta(days=1)
    assert (data["purchase_orders"]["order_date"] < CYCLE).all()
    assert (data["products"]["launch_date"] < CYCLE).all()
    assert (data["overrides"]["cycle"] <= CYCLE).all()
    horizon = add_months(CYCLE, 12)
    for name, plan in (("overrides", _current_overrides(data)), ("budget", data["budget"])):
        months = plan["month"]
        assert ((months >= CYCLE) & (months < horizon)).all(), name


def test_references_keys_and_allowed_values(data):
    skus = set(data["products"]["sku"])
    for name in ("sales", "inventory", "purchase_orders"):
        assert set(data[name]["sku"]) <= skus, name
    assert set(data["events"]["sku"].drop_nulls()) <= skus
    assert set(data["products"]["supplier"]) <= set(data["suppliers"]["supplier"])
    assert set(data["overrides"]["sku"].drop_nulls()) <= skus
    assert set(data["overrides"]["family"].drop_nulls()) <= set(data["products"]["family"])
    keyed = (PRODUCTS, INVENTORY, PURCHASE_ORDERS, OVERRIDES, DATASETS_BY_NAME["events"], DATASETS_BY_NAME["budget"])
    for dataset in keyed:
        frame = data[dataset.name]
        assert frame.select(dataset.key).unique().height == frame.height, dataset.name
    for dataset in DATASETS:
        for column in dataset.columns:
            values = data[dataset.name][column.name].drop_nulls()
            if column.allowed is not None:
                assert set(values.cast(pl.String)) <= set(column.allowed), (dataset.name, column.name)
            if column.min_value is not None and values.len():
                assert values.min() >= column.min_value, (dataset.name, column.name)
    products = data["products"]
    assert (products["moq"] % products["order_multiple"] == 0).all()
    assert ((products["unit_price"] / products["unit_cost"]).is_between(2.2 - 1e-9, 4.0 + 1e-9)).all()


def test_plans_fill_exactly_one_of_each_pair(data):
    overrides = data["overrides"]
    assert 5 <= _current_overrides(data).height <= 10
    assert (overrides["sku"].is_null() ^ overrides["family"].is_null()).all()
    assert (overrides["quantity"].is_null() ^ overrides["percent"].is_null()).all()
    assert overrides["sku"].drop_nulls().len() > 0 and overrides["family"].drop_nulls().len() > 0
    events = data["events"]
    assert (events["sku"].is_null() ^ events["family"].is_null()).all()
    assert {"promotion", "launch", "new_account"} <= set(events["event_type"])
    assert events.filter((pl.col("event_type") == "promotion") & (pl.col("start_date") >= CYCLE)).height > 0
    assert data["budget"]["family"].null_count() == 0


def test_overrides_come_from_this_cycle_and_the_twelve_before_it(data):
    cycles = data["overrides"]["cycle"].unique().sort().to_list()
    assert cycles == [add_months(CYCLE, -back) for back in range(PAST_CYCLES, -1, -1)]
    rows = _past_overrides(data).group_by("cycle").agg(pl.len(), pl.col("sku").count().alias("skus"))
    assert rows["len"].is_between(5, 10).all()  # as many a cycle as this one's
    assert rows["skus"].sum() >= PAST_CYCLES and rows["len"].sum() - rows["skus"].sum() >= PAST_CYCLES


def test_each_past_override_falls_in_its_own_cycles_first_six_months(data):
    past = _past_overrides(data)
    assert past.height > 0
    outside = (pl.col("month") < pl.col("cycle")) | (pl.col("month") >= pl.col("cycle").dt.offset_by("6mo"))
    assert past.filter(outside).is_empty()
    assert past.filter(pl.col("month") >= CYCLE).height > 0  # the latest cycles reach past the demo cycle


def _monthly_sales(data) -> pl.DataFrame:
    return data["sales"].group_by("sku", pl.col("date").dt.truncate("1mo").alias("month")).agg(
        pl.col("quantity").sum().alias("sold"))


def test_past_sku_overrides_move_the_number_toward_what_then_sold(data):
    """Unit overrides carry real information: against the level the planner saw (the three months before
    the cycle), they land much closer to the month's sales and on the right side of that level."""
    monthly = _monthly_sales(data)
    overrides = _past_overrides(data).filter(pl.col("sku").is_not_null()).with_row_index("row")
    level = (
        overrides.join(pl.DataFrame({"back": [1, 2, 3]}), how="cross")
        .with_columns(pl.col("cycle").dt.offset_by(pl.format("-{}mo", "back")).alias("before"))
        .join(monthly, left_on=["sku", "before"], right_on=["sku", "month"], how="left")
        .group_by("row").agg((pl.col("sold").fill_null(0).sum() / 3).alias("level"))
    )
    scored = overrides.join(level, on="row").join(monthly, on=["sku", "month"], how="left")
    assert scored["sold"].null_count() == 0 and (scored["sold"] > 0).all()  # only SKUs selling that month
    override_error = (scored["quantity"] - scored["sold"]).abs().sum()
    level_error = (scored["level"] - scored["sold"]).abs().sum()
    assert override_error < 0.5 * level_error
    toward = (scored["quantity"] - scored["level"]).sign() == (scored["sold"] - scored["level"]).sign()
    assert toward.mean() >= 0.75


def test_past_family_overrides_are_mostly_optimistic_percentages(data):
    family = _past_overrides(data).filter(pl.col("family").is_not_null())
    assert family["quantity"].null_count() == family.height
    assert (family["percent"] > 0).mean() >= 0.7 and family["percent"].mean() >= 0.05
    assert (family["percent"] < 0).any()  # a few cuts too
    holiday = family.filter(pl.col("reason").str.starts_with("Holiday"))
    assert holiday["month"].dt.month().is_in([10, 11, 12]).all()


def test_stockout_months_are_empty_in_every_location(data):
    stock = _month_end_stock(data)
    empty = stock.filter(pl.col("on_hand") == 0)
    assert empty.height > 0
    # the shelf was empty, so that month's sales were cut well below the SKU's usual month
    sales = data["sales"].group_by(pl.col("date").dt.month_end().alias("snapshot_date"), "sku").agg(pl.col("quantity").sum())
    typical = sales.group_by("sku").agg(pl.col("quantity").median().alias("typical"))
    cut = empty.join(typical, on="sku").join(sales, on=["snapshot_date", "sku"], how="left").fill_null(0)
    assert (cut["quantity"] < cut["typical"]).mean() >= 0.8


def test_last_snapshot_has_near_stockouts_excess_and_obsolete_stock(data):
    last = CYCLE - timedelta(days=1)
    stock = _month_end_stock(data).filter(pl.col("snapshot_date") == last)
    recent = (
        data["sales"].filter(pl.col("date") >= add_months(CYCLE, -3))
        .group_by("sku").agg((pl.col("quantity").sum() / 3).alias("monthly"))
    )
    cover = stock.join(recent, on="sku").with_columns(cover=pl.col("on_hand") / pl.col("monthly"))
    assert cover.filter(pl.col("cover") < 0.3).height >= 1
    assert cover.filter(pl.col("cover") > 8).height >= 1
    discontinued = data["products"].filter(pl.col("status") == "discontinued").select("sku")
    assert (discontinued.join(stock, on="sku", how="left")["on_hand"].fill_null(0) > 0).all()


def test_open_purchase_orders_are_both_late_and_due(data):
    po = data["purchase_orders"]
    open_lines = po.filter(pl.col("status").is_in(["open", "partial"]))
    assert open_lines.filter(pl.col("expected_date") < CYCLE).height > 0
    assert open_lines.filter(pl.col("expected_date") >= CYCLE).height > 0
    assert (open_lines["expected_date"] < add_months(CYCLE, 5)).all()
    received = po.filter(pl.col("status") == "received")
    assert (received["received_quantity"] == received["quantity"]).all()
    assert (received["expected_date"] < CYCLE).all()
    assert (po.filter(pl.col("status").is_in(["open", "cancelled"]))["received_quantity"] == 0).all()
    partial = po.filter(pl.col("status") == "partial")
    assert ((partial["received_quantity"] > 0) & (partial["received_quantity"] < partial["quantity"])).all()


@pytest.mark.parametrize("skus", [600, 10_000])
def test_sku_count_scales(tmp_path, skus):
    counts = generate_demo(tmp_path, skus=skus, months=MONTHS, seed=SEED, cycle=CYCLE)
    products = _read(tmp_path, "products")
    assert counts["products"] == products.height == skus
    assert products["sku"].n_unique() == skus
    assert products["family"].n_unique() == 6
    assert _read(tmp_path, "sales")["sku"].n_unique() > 0.8 * skus


@pytest.mark.parametrize("kwargs", [{"skus": 5}, {"months": 6}, {"cycle": date(2025, 3, 15)}])
def test_arguments_outside_the_demo_are_refused(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_demo(tmp_path, **kwargs)


def _imported_names(path: Path) -> set[str]:
    """Every module and name an import statement of the file brings in, dotted, relative ones with their dots."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names |= {module} | {f"{module}.{alias.name}".replace("..", ".") for alias in node.names}
    return names


def test_no_stream_module_imports_the_entry_point():
    """generate.py hands each random stream to its module; imports point that way only."""
    package = Path(generate.__file__).parent
    modules = sorted(p for p in package.glob("*.py") if p.name not in ("__init__.py", "generate.py"))
    assert {p.stem for p in modules} >= {"catalogue", "events", "demand", "purchasing", "plans", "cash"}
    for path in modules:
        back = {n for n in _imported_names(path) if "generate" in n.split(".")}
        assert back == set(), (path.name, back)
