"""Deterministic demo data: a small home-fragrance brand's landing files (no Dagster import)."""
