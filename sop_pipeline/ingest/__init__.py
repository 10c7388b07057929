"""Landing contract and validation of the input files (no Dagster import)."""
