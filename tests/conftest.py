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

SLOWEST_FIRST = ("tests/history/test_history_scenario.py", "tests/reliability/test_readers_and_writers.py",
                 "tests/reliability/test_crash_safety.py", "tests/test_wheel.py", "tests/pipelines/test_dg.py",
                 "tests/pipelines/test_sources_e2e.py", "tests/test_docs.py", "tests/pipelines/test_operations.py",
                 "tests/reliability/test_snapshot_safety.py")
"""The files that take minutes, longest first (measured with ``--durations``). pytest-xdist hands out whole files
in collection order; started first, they run beside the many short files instead of alone at the end."""


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files keep their order


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
