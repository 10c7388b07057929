"""Configuration of a planning cycle: one documented place, each setting overridable by an environment variable.

The embedded default needs no configuration at all: the warehouse and every output live under
`./data`, the input files under `./data/landing`. `sop run` flags override the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field

# Environment variable → setting. The configuration table of docs/operations.md is this list.
ENV_VARS = {
    "SOP_HOME": "home",
    "SOP_DATA_DIR": "data_dir",
    "SOP_HORIZON": "horizon",
    "SOP_BACKTEST_ORIGINS": "backtest_origins",
    "SOP_AS_OF": "as_of",
    "SOP_FROZEN_MONTHS": "frozen_months",
    "SOP_FLEXIBLE_MONTHS": "flexible_months",
    "SOP_ABC_A_SHARE": "abc_a_share",
    "SOP_ABC_B_SHARE": "abc_b_share",
    "SOP_XYZ_X_CV": "xyz_x_cv",
    "SOP_XYZ_Y_CV": "xyz_y_cv",
    "SOP_SERVICE_LEVEL_A": "service_level_a",
    "SOP_SERVICE_LEVEL_B": "service_level_b",
    "SOP_SERVICE_LEVEL_C": "service_level_c",
    "SOP_EXCESS_COVER_MONTHS": "excess_cover_months",
    "SOP_SCENARIOS": "scenarios_file",
    "SOP_HISTORY_YEARS": "history_years",
    "SOP_CURRENCY": "currency",
    "SOP_FIRST_CYCLE": "first_cycle",
    "SOP_REPLAY_MONTHS": "replay_months",
}

DEFAULT_HOME = "data"
MIN_HORIZON, MAX_HORIZON = 3, 24


class SopConfig(dg.ConfigurableResource):
    """Paths and planning parameters shared by every asset of the cycle."""

    home: str = Field(default=DEFAULT_HOME, description="SOP_HOME: holds the warehouse and every output.")
    data_dir: str = Field(default="", description="SOP_DATA_DIR: the landing folder (default $SOP_HOME/landing).")
    horizon: int = Field(default=12, ge=MIN_HORIZON, le=MAX_HORIZON, description="Months planned ahead (3-24).")
    backtest_origins: int = Field(default=12, ge=1, description="Rolling backtest origins (past cycles) scored.")
    as_of: str = Field(
        default="",
        description="Date (YYYY-MM-DD) after which an input date counts as future-dated; default today.",
    )
    frozen_months: int = Field(default=2, ge=0, description="Months 1..N of the horizon are frozen.")
    flexible_months: int = Field(default=6, ge=0, description="Months up to N are flexible; later ones strategic.")
    abc_a_share: float = Field(default=0.80, gt=0, le=1, description="Revenue share covered by A SKUs.")
    abc_b_share: float = Field(default=0.95, gt=0, le=1, description="Revenue share covered by A and B SKUs.")
    xyz_x_cv: float = Field(default=0.5, gt=0, description="Demand CV below which a SKU is X.")
    xyz_y_cv: float = Field(default=1.0, gt=0, description="Demand CV below which a SKU is Y (else Z).")
    service_level_a: float = Field(default=0.98, gt=0, lt=1, description="Target service level of A SKUs.")
    service_level_b: float = Field(default=0.95, gt=0, lt=1, description="Target service level of B SKUs.")
    service_level_c: float = Field(default=0.90, gt=0, lt=1, description="Target service level of C SKUs.")
    excess_cover_months: float = Field(default=6.0, gt=0, description="Stock covering more months is excess.")
    scenarios_file: str = Field(default="", description="SOP_SCENARIOS: scenario YAML (default: the packaged one).")
    history_years: int = Field(
        default=10, ge=1, le=100,
        description="SOP_HISTORY_YEARS: an input date more than this many years before the cycle is rejected as a "
        "typo (a sale dated 1970 would otherwise stretch the calendar and change every plan).",
    )
    first_cycle: str = Field(
        default="2020-01-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])-01$",
        description="SOP_FIRST_CYCLE: the first cycle (first day of a month) the pipeline accepts and the Dagster "
        "UI lists as a partition. Set it earlier to backfill older cycles, e.g. on imported series.",
    )
    replay_months: int = Field(
        default=12, ge=0, le=60,
        description="SOP_REPLAY_MONTHS: the months before the cycle the plan replay plans again each cycle (0: no "
        "replay). Its cost grows with months × SKUs; `sop replay --months` runs any window on demand.",
    )
    currency: str = Field(
        default="EUR", pattern=r"^[A-Z]{3}$",
        description="SOP_CURRENCY: ISO 4217 code of every money input (prices, costs, budget), shown in the pack.",
    )
    allow_stale_actuals: bool = Field(
        default=False,
        description="Plan on actuals (sales or stock counts) that stop more than a month before the cycle. "
        "`sop run --allow-stale-actuals`; deliberately not an environment variable, so that it never sticks.",
    )
    def setup_for_execution(self, context) -> None:
        """Record the process executing the run, so that a run killed with it can be failed later (runs.py)."""
        if context.instance is not None and context.run_id and context.dagster_run is not None:
            from sop_pipeline.runs import PID_TAG, process_tags

            if PID_TAG not in context.dagster_run.tags:
                context.instance.add_run_tags(context.run_id, process_tags())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> SopConfig:
        """Defaults, then environment variables, then explicit overrides (e.g. command-line flags)."""
        env = os.environ if env is None else env
        values = {field: env[var] for var, field in ENV_VARS.items() if env.get(var)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser().resolve()

    @property
    def landing_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve() if self.data_dir else self.home_path / "landing"

    @property
    def warehouse_path(self) -> Path:
        return self.home_path / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        from sop_pipeline.publish import SERVING_FILE  # one name, where the publication is written

        return self.home_path / "serving" / SERVING_FILE

    @property
    def exports_path(self) -> Path:
        return self.home_path / "exports"

    @property
    def fold_cache_path(self) -> Path:
        """The backtest folds kept between cycles (sop_pipeline.forecast.folds): safe to delete."""
        return self.home_path / "cache" / "forecast_folds"

    @property
    def reports_path(self) -> Path:
        return self.home_path / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home_path / "dagster"

    @property
    def service_levels(self) -> dict[str, float]:
        return {"A": self.service_level_a, "B": self.service_level_b, "C": self.service_level_c}

    @property
    def scenarios_path(self) -> Path | None:
        return Path(self.scenarios_file).expanduser().resolve() if self.scenarios_file else None

    def as_of_date(self, today: date | None = None) -> date:
        return date.fromisoformat(self.as_of) if self.as_of else (today or date.today())

    def problems(self) -> list[str]:
        """Settings that are valid one by one but contradict each other (checked before a run starts)."""
        found = []
        if self.frozen_months > self.flexible_months:
            found.append(f"SOP_FROZEN_MONTHS ({self.frozen_months}) must not exceed SOP_FLEXIBLE_MONTHS "
                         f"({self.flexible_months}): months 1..frozen are frozen, the rest up to flexible flexible")
        if self.abc_a_share > self.abc_b_share:
            found.append(f"SOP_ABC_A_SHARE ({self.abc_a_share}) must not exceed SOP_ABC_B_SHARE ({self.abc_b_share})")
        if self.xyz_x_cv > self.xyz_y_cv:
            found.append(f"SOP_XYZ_X_CV ({self.xyz_x_cv}) must not exceed SOP_XYZ_Y_CV ({self.xyz_y_cv})")
        return found

    def earliest_date(self, cycle: date) -> date:
        """The first day an input date may fall on for `cycle`: `history_years` whole years before it."""
        return date(cycle.year - self.history_years, cycle.month, 1)

    def env(self) -> dict[str, str]:
        """The environment variables that reproduce this configuration in another process."""
        values = self.model_dump()
        values["home"] = str(self.home_path)
        values["data_dir"] = str(self.landing_path)
        if self.scenarios_file:
            values["scenarios_file"] = str(self.scenarios_path)
        return {var: str(values[field]) for var, field in ENV_VARS.items() if values[field] != ""}

    def dbt_vars(self, cycle: str) -> dict:
        """The variables the dbt fact base is built with for one cycle."""
        from sop_pipeline.forecast.patterns import NEW_SKU_MONTHS  # one definition of a new SKU for dbt and Python

        return {
            "cycle": cycle,
            "warehouse_path": str(self.warehouse_path),
            "horizon": self.horizon,
            "frozen_months": self.frozen_months,
            "flexible_months": self.flexible_months,
            "abc_a_share": self.abc_a_share,
            "abc_b_share": self.abc_b_share,
            "xyz_x_cv": self.xyz_x_cv,
            "xyz_y_cv": self.xyz_y_cv,
            "earliest_month": self.earliest_date(date.fromisoformat(cycle)).isoformat(),
            # dim_products.is_new and the forecast's new-SKU path must draw the line at the same month count.
            "new_sku_months": NEW_SKU_MONTHS,
        }
