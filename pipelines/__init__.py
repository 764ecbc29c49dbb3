"""Dagster wiring for the connector: assets, resources, partitions, and the CLI."""
