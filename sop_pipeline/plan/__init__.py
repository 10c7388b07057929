"""Demand review logic: events, overrides, the consensus demand plan and plan-vs-actual (no Dagster import)."""
