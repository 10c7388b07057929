"""sop-pipeline: a company's monthly Sales & Operations Planning cycle as a Dagster data pipeline."""
