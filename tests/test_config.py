"""Configuration: defaults need nothing, the environment overrides them, flags override the environment."""

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from sop_pipeline.config import SopConfig


def test_defaults_need_no_configuration():
    sop = SopConfig.from_env(env={})
    assert sop.home_path == Path("data").resolve()
    assert sop.landing_path == Path("data").resolve() / "landing"
    assert sop.warehouse_path == Path("data").resolve() / "warehouse.duckdb"
    assert sop.serving_path == Path("data").resolve() / "serving" / "sop_bi.duckdb"
    assert sop.horizon == 12


def test_environment_overrides_defaults_and_flags_override_environment(tmp_path):
    env = {"SOP_HOME": str(tmp_path / "h"), "SOP_HORIZON": "18", "SOP_DATA_DIR": str(tmp_path / "in")}
    sop = SopConfig.from_env(env=env, horizon=6, data_dir=None)
    assert sop.home_path == tmp_path / "h"
    assert sop.landing_path == tmp_path / "in"  # a flag left unset (None) keeps the environment's value
    assert sop.horizon == 6


@pytest.mark.parametrize("horizon", [2, 25])
def test_horizon_outside_3_to_24_is_refused(horizon):
    with pytest.raises(ValidationError):
        SopConfig.from_env(env={}, horizon=horizon)


def test_as_of_defaults_to_today_and_can_be_pinned():
    assert SopConfig.from_env(env={}).as_of_date(today=date(2027, 1, 5)) == date(2027, 1, 5)
    assert SopConfig.from_env(env={"SOP_AS_OF": "2026-12-31"}).as_of_date() == date(2026, 12, 31)


def test_env_round_trips_into_another_process(tmp_path):
    sop = SopConfig.from_env(env={}, home=str(tmp_path), horizon=9)
    again = SopConfig.from_env(env=sop.env())
    assert again == SopConfig(home=str(tmp_path), data_dir=str(tmp_path / "landing"), horizon=9)


def test_dbt_vars_carry_the_cycle_and_absolute_warehouse_path(tmp_path):
    dbt_vars = SopConfig.from_env(env={}, home=str(tmp_path)).dbt_vars("2026-11-01")
    assert dbt_vars["cycle"] == "2026-11-01"
    assert dbt_vars["warehouse_path"] == str(tmp_path / "warehouse.duckdb")
    assert (dbt_vars["frozen_months"], dbt_vars["flexible_months"]) == (2, 6)
    from sop_pipeline.forecast.patterns import NEW_SKU_MONTHS

    assert dbt_vars["new_sku_months"] == NEW_SKU_MONTHS  # dbt's is_new and the forecast's new-SKU path agree
