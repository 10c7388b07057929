"""The cycle partition: one partition per month, keyed by the month's first day."""

import dagster as dg

from sop_pipeline.config import SopConfig

# Never derived from today: a cycle's key must mean the same thing on every machine and day. The first cycle
# is a setting (SOP_FIRST_CYCLE, default 2020-01): early enough for a brand's own history, late enough that
# the UI does not list hundreds of cycles nobody will run.
FIRST_CYCLE = SopConfig.from_env().first_cycle
TIMEZONE = "UTC"

# end_offset=1: the cycle named after the current month exists from its first day, because the
# cycle plans from the month's start with actuals up to the end of the previous month.
cycles = dg.MonthlyPartitionsDefinition(start_date=FIRST_CYCLE, timezone=TIMEZONE, end_offset=1)

# Each cycle rebuilds the fact base for its own cutoff, so a backfill runs one cycle per run.
one_cycle_per_run = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
