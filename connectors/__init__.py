"""Connectors: API clients and flattening, free of Dagster and usable on their own."""
