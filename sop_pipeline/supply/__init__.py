"""Supply review logic: projected inventory, planned orders and supply gaps (no Dagster import)."""
