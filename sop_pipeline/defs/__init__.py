"""Dagster wiring: assets, checks, jobs and schedules. The logic they call lives in plain modules."""
