"""Shared test setup: tests never inherit the caller's Dagster instance or API settings."""

import os

import pytest

# The default first partition is the warehouse's first snapshot or yesterday; the tests snapshot older dates
# (with --force), so they lay the partitions out from a fixed day. Set before pipelines.partitions is imported.
os.environ["ASSISTANTS_START_DATE"] = "2025-01-01"

ISOLATED_VARIABLES = ("DAGSTER_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
                      "OPENAI_API_VERSION", "ASSISTANTS_AUTH_STYLE", "ASSISTANTS_WAREHOUSE", "ASSISTANTS_IDS_FILE",
                      "ASSISTANTS_DISCOVER")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch):
    for name in ISOLATED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
