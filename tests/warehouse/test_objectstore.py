"""A warehouse URI opens a local folder or a bucket, and a date's commit is atomic there without any rename.

The commit tests run twice: on a local folder and on an S3-compatible server (moto) on loopback.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import uuid

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from s3_server import ACCESS_KEY, SECRET_KEY

from assistants_export.connectors.core.errors import ConfigError, WarehouseWriteError
from assistants_export.connectors.warehouse.objectstore import (
    ConcurrentCommitError,
    DeltaDateTable,
    StorageOptions,
    WarehouseLocation,
    open_filesystem,
    parse_warehouse_uri,
)

DATE = dt.date(2026, 11, 21)
SCHEMA = pa.schema([
    pa.field("snapshot_date", pa.date32(), nullable=False),
    pa.field("assistant_id", pa.string(), nullable=False),
    pa.field("writer", pa.string()),
])


def rows(date: dt.date, writer: str, n: int) -> pa.Table:
    return pa.table({"snapshot_date": [date] * n, "assistant_id": [f"asst_{i:05d}" for i in range(n)],
                     "writer": [writer] * n}, schema=SCHEMA)


# --- URIs -------------------------------------------------------------------------------------------------------


def test_a_path_is_a_local_warehouse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_warehouse_uri("data") == WarehouseLocation("file", str(tmp_path / "data"))
    assert parse_warehouse_uri(tmp_path / "x").uri == str(tmp_path / "x")
    assert parse_warehouse_uri(f"file://{tmp_path}/y").uri == str(tmp_path / "y")
    assert parse_warehouse_uri("data").is_local


@pytest.mark.parametrize(("text", "scheme", "root"), [
    ("s3://bucket", "s3", "bucket"),
    ("s3://bucket/", "s3", "bucket"),
    ("s3://bucket/team/assistants/", "s3", "bucket/team/assistants"),
    ("S3://bucket//a//b", "s3", "bucket/a/b"),
    ("gs://bucket/prefix", "gs", "bucket/prefix"),
    ("az://container/prefix", "az", "container/prefix"),
])
def test_object_store_uris(text, scheme, root):
    location = parse_warehouse_uri(text)
    assert (location.scheme, location.root, location.is_local) == (scheme, root, False)
    assert location.uri == f"{scheme}://{root}"
    assert location.child("delta", "t") == f"{scheme}://{root}/delta/t"


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("http://example.com/warehouse", "unsupported scheme 'http'"),
    ("ftp://host/x", "unsupported scheme 'ftp'"),
    ("s3://", "no bucket"),
    ("s3:///prefix", "no bucket"),
    ("s3://bucket/../other", "'..'"),
    ("s3://bucket/p?versionId=3", "credentials come from the environment"),
    ("file://host/path", "file:///path"),
])
def test_anything_else_is_a_one_line_config_error(text, says):
    with pytest.raises(ConfigError) as caught:
        parse_warehouse_uri(text)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_credentials_in_a_uri_are_refused_without_being_repeated():
    with pytest.raises(ConfigError) as caught:
        parse_warehouse_uri(f"s3://{ACCESS_KEY}:{SECRET_KEY}@bucket/prefix")
    assert SECRET_KEY not in str(caught.value) and ACCESS_KEY not in str(caught.value)
    assert "credentials come from the environment" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_warehouse_uri(f"https://user:{SECRET_KEY}@host/x")
    assert SECRET_KEY not in str(caught.value)


def test_storage_options_hold_no_secret():
    location = parse_warehouse_uri("s3://bucket/p")
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SECRET_KEY + "token"}
    options = StorageOptions.from_environment(location, env)
    assert options.as_dict() == {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ALLOW_HTTP": "true",
                                 "AWS_REGION": "eu-west-1"}
    assert StorageOptions.from_environment(parse_warehouse_uri("/tmp/x"), env).as_dict() == {}
    table = DeltaDateTable(location, "t", SCHEMA, environ=env)
    for shown in (repr(options), repr(table), repr(location), str(location)):
        assert SECRET_KEY not in shown and ACCESS_KEY not in shown


# --- Commits, on a local folder and on S3 -----------------------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def location(request, tmp_path) -> WarehouseLocation:
    if request.param == "local":
        return parse_warehouse_uri(tmp_path / "warehouse")
    bucket = request.getfixturevalue("moto_s3")
    return parse_warehouse_uri(bucket.uri())


def test_a_date_commits_and_a_recommit_replaces_it(location):
    table = DeltaDateTable(location, "members", SCHEMA)
    assert table.version() is None and table.dates() == [] and table.read_date(DATE).num_rows == 0
    first = table.commit_date(DATE, rows(DATE, "a", 3))
    table.commit_date(DATE + dt.timedelta(days=1), rows(DATE + dt.timedelta(days=1), "b", 2))
    again = table.commit_date(DATE, rows(DATE, "c", 1))
    assert again > first
    assert table.read_date(DATE).to_pylist() == [{"snapshot_date": DATE, "assistant_id": "asst_00000",
                                                  "writer": "c"}]
    assert table.read_date(DATE + dt.timedelta(days=1)).num_rows == 2
    assert table.dates() == [DATE, DATE + dt.timedelta(days=1)]
    assert table.read_date(DATE, version=first).column("writer").to_pylist() == ["a"] * 3


def test_rows_of_another_date_are_refused(location):
    table = DeltaDateTable(location, "members", SCHEMA)
    with pytest.raises(ValueError, match="another date"):
        table.commit_date(DATE, rows(DATE + dt.timedelta(days=1), "a", 1))
    assert table.version() is None


def test_two_writers_of_the_same_read_version_one_wins_the_other_fails_cleanly(location):
    table = DeltaDateTable(location, "members", SCHEMA)
    base = table.commit_date(DATE, rows(DATE, "base", 2))
    table.commit_date(DATE, rows(DATE, "first", 4), read_version=base)
    with pytest.raises(ConcurrentCommitError) as caught:
        table.commit_date(DATE, rows(DATE, "second", 5), read_version=base)
    message = str(caught.value)
    assert "members 2026-11-21: another writer committed this date first" in message and "\n" not in message
    assert isinstance(caught.value, WarehouseWriteError)
    assert table.read_date(DATE).column("writer").to_pylist() == ["first"] * 4


def test_a_writer_of_another_date_does_not_conflict(location):
    table = DeltaDateTable(location, "members", SCHEMA)
    base = table.commit_date(DATE, rows(DATE, "base", 2))
    other = DATE + dt.timedelta(days=1)
    table.commit_date(other, rows(other, "other", 3))
    table.commit_date(DATE, rows(DATE, "mine", 1), read_version=base)
    assert table.read_date(DATE).column("writer").to_pylist() == ["mine"]
    assert table.read_date(other).num_rows == 3


def test_writers_racing_for_one_date_exactly_one_wins(location):
    table = DeltaDateTable(location, "members", SCHEMA)
    base = table.commit_date(DATE, rows(DATE, "base", 1))
    writers = 4
    barrier = threading.Barrier(writers)
    outcomes: dict[str, str] = {}

    def write(name: str) -> None:
        barrier.wait()
        try:
            DeltaDateTable(location, "members", SCHEMA).commit_date(DATE, rows(DATE, name, 10), read_version=base)
            outcomes[name] = "won"
        except ConcurrentCommitError:
            outcomes[name] = "lost"

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == writers and len(winners) == 1, outcomes
    assert table.read_date(DATE).column("writer").to_pylist() == winners * 10
    assert table.version() == base + 1


def test_a_reader_sees_one_whole_commit_or_the_one_before(location):
    table = DeltaDateTable(location, "members", SCHEMA)
    sizes = {"g0": 50}
    table.commit_date(DATE, rows(DATE, "g0", 50))
    done = threading.Event()
    seen: list[tuple[set[str], int]] = []

    def read() -> None:
        reader = DeltaDateTable(location, "members", SCHEMA)
        while not done.is_set():
            got = reader.read_date(DATE)
            seen.append((set(got.column("writer").to_pylist()), got.num_rows))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for generation in range(1, 6):
            name, n = f"g{generation}", 50 + 37 * generation
            sizes[name] = n
            table.commit_date(DATE, rows(DATE, name, n))
    finally:
        done.set()
        thread.join()
    assert seen
    for writers, n in seen:
        assert len(writers) == 1, writers  # never two generations mixed
        assert n == sizes[next(iter(writers))]  # never part of one


def test_files_no_commit_names_are_never_read(location):
    """A writer that died after uploading its data files, before its log entry, leaves nothing visible."""
    table = DeltaDateTable(location, "members", SCHEMA)
    table.commit_date(DATE, rows(DATE, "committed", 3))
    filesystem, root = open_filesystem(location)
    partition = f"{root}/delta/members/snapshot_date={DATE.isoformat()}"
    filesystem.create_dir(partition, recursive=True)
    pq.write_table(rows(DATE, "crashed", 7), f"{partition}/part-00000-{uuid.uuid4()}-c000.zstd.parquet",
                   filesystem=filesystem)
    new_date = DATE + dt.timedelta(days=3)
    lost = f"{root}/delta/members/snapshot_date={new_date.isoformat()}"
    filesystem.create_dir(lost, recursive=True)
    pq.write_table(rows(new_date, "crashed", 2), f"{lost}/part-00000-{uuid.uuid4()}-c000.zstd.parquet",
                   filesystem=filesystem)
    # a commit file that was being written when the writer died (a local writer writes one, then links it)
    with filesystem.open_output_stream(f"{root}/delta/members/_delta_log/_commit_{uuid.uuid4()}.json.tmp") as out:
        out.write(b'{"add": {"path": "snapshot_date=2026-11-21/part-')

    reader = DeltaDateTable(location, "members", SCHEMA)
    assert reader.read_date(DATE).column("writer").to_pylist() == ["committed"] * 3
    assert reader.dates() == [DATE] and reader.read_date(new_date).num_rows == 0
    # and the next writer commits over the leftovers as if they were not there
    reader.commit_date(DATE, rows(DATE, "next", 1))
    assert reader.read_date(DATE).column("writer").to_pylist() == ["next"]


def test_duckdb_reads_the_committed_rows_offline(location):
    """DuckDB's httpfs and delta extensions are downloads; the Arrow dataset needs neither."""
    table = DeltaDateTable(location, "members", SCHEMA)
    table.commit_date(DATE, rows(DATE, "a", 4))
    table.commit_date(DATE, rows(DATE, "b", 2))
    with duckdb.connect(":memory:") as con:
        con.register("members", table.dataset())
        assert con.execute("SELECT writer, count(*) FROM members GROUP BY writer").fetchall() == [("b", 2)]


def test_no_secret_is_logged_or_stored(location, caplog):
    caplog.set_level(logging.DEBUG)
    table = DeltaDateTable(location, "members", SCHEMA)
    table.commit_date(DATE, rows(DATE, "a", 1))
    table.read_date(DATE)
    assert SECRET_KEY not in caplog.text and ACCESS_KEY not in caplog.text
    assert SECRET_KEY not in repr(table) and SECRET_KEY not in repr(table._options)


def test_the_s3_warehouse_is_in_the_bucket(moto_s3):
    table = DeltaDateTable(parse_warehouse_uri(moto_s3.uri("team/wh")), "members", SCHEMA)
    table.commit_date(DATE, rows(DATE, "a", 1))
    keys = moto_s3.keys("team/wh/")
    assert "team/wh/delta/members/_delta_log/00000000000000000000.json" in keys
    assert any(key.startswith("team/wh/delta/members/snapshot_date=2026-11-21/") for key in keys)


def test_empty_cloud_variables_mean_not_set(moto_s3, monkeypatch):
    """A deployment's ``${AWS_SESSION_TOKEN:-}`` sets it to "", which the SDK would send as a token."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", "")
    monkeypatch.setenv("AWS_PROFILE", "")
    table = DeltaDateTable(parse_warehouse_uri(moto_s3.uri("wh")), "members", SCHEMA)
    table.commit_date(DATE, rows(DATE, "one", 3))
    assert table.dates() == [DATE]
    assert "AWS_SESSION_TOKEN" not in os.environ and os.environ["AWS_ENDPOINT_URL"] == moto_s3.endpoint


def test_an_azure_container_is_opened_with_the_account_from_the_environment(monkeypatch):
    """pyarrow reads abfs:// but not az://, which deltalake, DuckDB and Spark use; no request is made here."""
    location = parse_warehouse_uri("az://archive/assistants")
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    with pytest.raises(ConfigError, match="set AZURE_STORAGE_ACCOUNT_NAME"):
        open_filesystem(location)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acmearchive")
    filesystem, root = open_filesystem(location)
    assert type(filesystem).__name__ == "AzureFileSystem" and root == "archive/assistants"
