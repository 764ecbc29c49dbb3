"""Shared test setup: tests never inherit the caller's Dagster instance or API settings."""

import os

import pytest
from s3_server import _moto_endpoint, moto_s3  # noqa: F401  (fixtures, found by name)

# The default first partition is the warehouse's first snapshot or yesterday; the tests snapshot older dates
# (with --force), so they lay the partitions out from a fixed day. Set before pipelines.partitions is imported.
os.environ["ASSISTANTS_START_DATE"] = "2025-01-01"

ISOLATED_VARIABLES = ("DAGSTER_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
                      "OPENAI_API_VERSION", "ASSISTANTS_AUTH_STYLE", "ASSISTANTS_WAREHOUSE", "ASSISTANTS_IDS_FILE",
                      "ASSISTANTS_DISCOVER", "ASSISTANTS_DUCKDB_CACHE", "ASSISTANTS_SOURCES_FILE")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch):
    for name in ISOLATED_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["local", "s3"])
def warehouse_kind(request):
    """Run a test on a local folder warehouse and on an object-store one (moto's S3 server on loopback)."""
    return request.param


@pytest.fixture
def warehouse_uri(warehouse_kind, request, tmp_path, monkeypatch):
    """Where the test's warehouse is: ``tmp_path/wh``, or ``s3://<fresh bucket>/wh`` with its DuckDB cache in tmp_path.

    The S3 server is started once per module (``_moto_endpoint``) and stops by itself.
    """
    if warehouse_kind == "local":
        return str(tmp_path / "wh")
    bucket = request.getfixturevalue("moto_s3")
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "duckdb-cache"))
    return bucket.uri("wh")
