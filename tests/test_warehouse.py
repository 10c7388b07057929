"""Warehouse writes: identifiers are allowlisted, raw tables swap in one transaction, cycles replace only themselves."""

import duckdb
import polars as pl
import pytest

from sop_pipeline.ingest.contract import BUDGET, PRODUCTS
from sop_pipeline.warehouse import connect, quote_ident, raw_columns, replace_cycle_rows, replace_raw_tables, row_counts


@pytest.mark.parametrize("name", ['x"; DROP TABLE raw.sales; --', "a b", "1abc", ""])
def test_identifiers_that_are_not_plain_names_are_refused(name):
    with pytest.raises(ValueError, match="identifier"):
        quote_ident(name)


def _budget(rows: int) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"month": [None] * rows, "family": ["F"] * rows, "revenue_target": [1.0] * rows,
         "_source_file": ["b.csv"] * rows, "_source_row": list(range(2, rows + 2))},
    )
    return frame.cast(raw_columns(BUDGET))


def test_raw_tables_are_replaced_all_or_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        replace_raw_tables(con, {BUDGET: _budget(3)})
        broken = pl.DataFrame({"sku": ["x"]})  # lacks the contract's columns: the second write fails
        with pytest.raises(pl.exceptions.ColumnNotFoundError):
            replace_raw_tables(con, {BUDGET: _budget(5), PRODUCTS: broken})
        assert con.execute("SELECT count(*) FROM raw.budget").fetchall()[0][0] == 3
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'products'").fetchall()[0][0] == 0


def test_replacing_a_cycle_keeps_the_other_cycles(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        replace_cycle_rows(con, "sop", "t", "2026-10-01", pl.DataFrame({"cycle": ["2026-10-01"] * 2, "v": [1, 2]}))
        replace_cycle_rows(con, "sop", "t", "2026-11-01", pl.DataFrame({"cycle": ["2026-11-01"], "v": [3]}))
        replace_cycle_rows(con, "sop", "t", "2026-11-01", pl.DataFrame({"cycle": ["2026-11-01"], "v": [4]}))
        rows = con.execute("SELECT cycle, v FROM sop.t ORDER BY cycle, v").fetchall()
        assert rows == [("2026-10-01", 1), ("2026-10-01", 2), ("2026-11-01", 4)]
        assert row_counts(con, ["sop"]) == [("sop", "t", 3)]


def test_read_only_connection_cannot_write(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS a")
    with connect(tmp_path / "w.duckdb", read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute("INSERT INTO t VALUES (2)")


def test_a_table_gains_new_columns_and_keeps_earlier_cycles(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        replace_cycle_rows(con, "sop", "t", "2026-10-01", pl.DataFrame({"cycle": ["2026-10-01"], "a": [1]}))
        # A newer release writes a column more, in another order: the older cycle keeps its row.
        replace_cycle_rows(con, "sop", "t", "2026-11-01",
                           pl.DataFrame({"b": [2.5], "cycle": ["2026-11-01"], "a": [2]}))
        rows = con.execute('SELECT cycle, a, b FROM sop.t ORDER BY cycle').fetchall()
    assert rows == [("2026-10-01", 1, None), ("2026-11-01", 2, 2.5)]


def test_a_stages_tables_are_written_together_or_not_at_all(tmp_path):
    from datetime import date

    from sop_pipeline.warehouse import write_cycle_tables

    nov, oct_ = date(2026, 11, 1), date(2026, 10, 1)
    with connect(tmp_path / "w.duckdb") as con:
        write_cycle_tables(con, "sop", oct_, {"a": pl.DataFrame({"v": [1]}), "b": pl.DataFrame({"v": [2]})})
        write_cycle_tables(con, "sop", nov, {"a": pl.DataFrame({"v": [3]}), "b": pl.DataFrame({"v": [4]})})

        def kill():
            raise KeyboardInterrupt  # what a fault point between the two tables does

        with pytest.raises(KeyboardInterrupt):
            write_cycle_tables(con, "sop", nov, {"a": pl.DataFrame({"v": [30]}), "b": pl.DataFrame({"v": [40]})},
                               between=kill)
        rows = {t: con.execute(f"SELECT cycle, v FROM sop.{t} ORDER BY cycle").fetchall() for t in ("a", "b")}
    # The cycle is stamped first; October kept; November's first table rolled back with the second.
    assert rows == {"a": [(oct_, 1), (nov, 3)], "b": [(oct_, 2), (nov, 4)]}
