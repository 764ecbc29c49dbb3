"""The flatten step rebuilds a date's payload tables only when another flattener wrote them.

After a fetch, the payload partitions are exactly what the flatten step would write, so the nightly flatten
step leaves them alone; after an upgrade that changes the flattening (another fingerprint in the files'
metadata), or with ``force``, it rebuilds them from the stored bodies.
"""

import datetime as dt
import inspect

import pyarrow.parquet as pq
import pytest

from assistants_export.connectors.core.schemas import PAYLOAD_TABLES
from assistants_export.connectors.openai_assistants import flatten
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot
from assistants_export.connectors.warehouse import ParquetStore
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

DATE = dt.date(2026, 11, 20)
KEY = "sk-flatten-step-5pQw"


def fetch(warehouse, assistants, date=DATE):
    with SandboxServer(StaticCatalog(assistants), api_key=KEY) as srv:
        fetch_snapshot(ClientConfig(api_key=Secret(KEY), base_url=srv.base_url),
                       IdSource(ids=tuple(a["id"] for a in assistants)), date, warehouse)


def files(warehouse):
    store = ParquetStore(warehouse)
    return {spec.name: [(p, p.stat().st_mtime_ns) for p in store.partition_files(spec.name, DATE)]
            for spec in PAYLOAD_TABLES}


def contents(warehouse):
    store = ParquetStore(warehouse)
    return {spec.name: store.read(spec, DATE).sort_by("content_hash").to_pylist() for spec in PAYLOAD_TABLES}


@pytest.fixture
def fetched(tmp_path):
    fetch(tmp_path, bundled_assistants()[:8])
    return tmp_path


def test_the_partitions_a_fetch_wrote_are_left_as_they_are(fetched):
    before, rows = files(fetched), contents(fetched)
    counts = flatten_snapshot(DATE, fetched)
    assert files(fetched) == before
    assert counts == {name: len(table) for name, table in rows.items()} and counts["payloads"] == 8


def test_partitions_of_another_flattener_are_flattened_again_to_the_same_rows(fetched, monkeypatch):
    rows = contents(fetched)
    before = files(fetched)
    monkeypatch.setattr("assistants_export.connectors.snapshot.flatten_step.FLATTENED_BY",
                        {"assistants_export.flattened_by": "an-older-one"})
    flatten_snapshot(DATE, fetched)
    after = files(fetched)
    assert all(after[name] != before[name] for name in before)  # every partition rewritten
    assert contents(fetched) == rows
    for spec in PAYLOAD_TABLES:
        path = ParquetStore(fetched).partition_files(spec.name, DATE)[0]
        assert pq.read_schema(path).metadata[b"assistants_export.flattened_by"] == b"an-older-one"


def test_force_flattens_again(fetched):
    before, rows = files(fetched), contents(fetched)
    flatten_snapshot(DATE, fetched, force=True)
    assert all(files(fetched)[name] != before[name] for name in before)
    assert contents(fetched) == rows


def test_a_merged_partition_keeps_the_stamp_only_when_the_rows_it_kept_had_it(fetched, monkeypatch):
    """A re-run adds new payloads to the date's partition: if the kept rows came from another flattener,
    the partition is not stamped as this one's, so the flatten step still rebuilds it."""
    store = ParquetStore(fetched)
    for spec in PAYLOAD_TABLES:  # as if an older version had written the stored rows
        (path,) = store.partition_files(spec.name, DATE)
        pq.write_table(pq.read_table(path).replace_schema_metadata({}), path)
    extra = {**bundled_assistants()[8], "name": "new tonight"}
    fetch(fetched, [*bundled_assistants()[:8], extra])
    assert store.partition_metadata("payloads", DATE) == [{}]
    flatten_snapshot(DATE, fetched)
    assert all(m == flatten.FLATTENED_BY for spec in PAYLOAD_TABLES for m in store.partition_metadata(spec.name, DATE))
    fetch(fetched, [*bundled_assistants()[:8], {**extra, "name": "newer still"}])  # stamped rows kept: stamped
    assert store.partition_metadata("payloads", DATE) == [flatten.FLATTENED_BY]
    assert store.partition_rows("payloads", DATE) == 10


def test_the_fingerprint_follows_the_flattening_code(monkeypatch):
    assert flatten._fingerprint() == flatten.FLATTENED_BY["assistants_export.flattened_by"]
    real = inspect.getsource
    monkeypatch.setattr(flatten.inspect, "getsource",
                        lambda module: real(module) + ("\n# edited\n" if module is flatten.model else ""))
    assert flatten._fingerprint() != flatten.FLATTENED_BY["assistants_export.flattened_by"]


def test_on_a_bucket_the_fingerprint_is_kept_in_the_log_and_a_fetched_date_is_not_written_again(
        moto_s3, tmp_path, monkeypatch):
    """Delta's writer drops Parquet key-value metadata; the fingerprint goes into the commit's log entry."""
    from assistants_export.connectors.warehouse import open_store

    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    lake = moto_s3.uri("wh")
    fetch(lake, bundled_assistants()[:8])
    store = open_store(lake)
    versions = {spec.name: store.date_table(spec.name).version() for spec in PAYLOAD_TABLES}
    rows = {spec.name: store.read(spec, DATE).sort_by("content_hash").to_pylist() for spec in PAYLOAD_TABLES}
    assert flatten_snapshot(DATE, lake)["payloads"] == 8
    assert {spec.name: store.date_table(spec.name).version() for spec in PAYLOAD_TABLES} == versions  # no commit
    monkeypatch.setattr("assistants_export.connectors.snapshot.flatten_step.FLATTENED_BY",
                        {"assistants_export.flattened_by": "an-older-one"})
    flatten_snapshot(DATE, lake)
    after = {spec.name: store.date_table(spec.name).version() for spec in PAYLOAD_TABLES}
    assert all(after[name] > versions[name] for name in versions)  # another fingerprint: written again
    assert {spec.name: store.read(spec, DATE).sort_by("content_hash").to_pylist() for spec in PAYLOAD_TABLES} == rows
