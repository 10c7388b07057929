"""The cycle partition: one partition per month, keyed by the month's first day."""

import dagster as dg

# Fixed, never derived from today: a cycle's key must mean the same thing on every machine and day.
# Early enough for the public demand data sets used in accuracy benchmarks (which start in 1998).
FIRST_CYCLE = "1998-01-01"
TIMEZONE = "UTC"

# end_offset=1: the cycle named after the current month exists from its first day, because the
# cycle plans from the month's start with actuals up to the end of the previous month.
cycles = dg.MonthlyPartitionsDefinition(start_date=FIRST_CYCLE, timezone=TIMEZONE, end_offset=1)

# Each cycle rebuilds the fact base for its own cutoff, so a backfill runs one cycle per run.
one_cycle_per_run = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
