"""A warehouse is a local folder (or a file:// URI) or an object store's ``scheme://bucket/prefix``.

A URI that carries credentials, or names a scheme the warehouse cannot use, ends every command in one line
before anything is done: it never becomes a local folder named ``s3:``, and a key written into it is never
repeated.
"""

import os

import pytest

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.warehouse import DuckDBStore, ParquetStore
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.resources import WarehouseResource

URI = "s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/prefix"
COMMANDS = {
    "snapshot": ["snapshot", "--ids", "asst_a"],
    "backfill": ["backfill", "--from", "2026-11-01", "--to", "2026-11-02"],
    "query": ["query", "SELECT 1"],
    "history": ["history", "asst_a"],
    "rebuild-duckdb": ["rebuild-duckdb"],
    "upgrade": ["upgrade"],
    "migrate": ["migrate", "--to", "responses", "--output", "requests.jsonl"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_object_store_uri_ends_every_command_in_one_line(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-location-test")
    assert run([*COMMANDS[command], "--warehouse", URI]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "credentials come from the environment" in err, err
    assert "wJalrXUtnFEMI" not in err and "AKIAEXAMPLE" not in err
    assert os.listdir(tmp_path) == []  # no folder named "s3:" (or anything else) was created


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_scheme_ends_every_command_in_one_line(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-location-test")
    assert run([*COMMANDS[command], "--warehouse", "ftp://host/prefix"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unsupported scheme 'ftp'" in err, err
    assert os.listdir(tmp_path) == []


def test_the_variable_is_checked_the_same_way(monkeypatch):
    monkeypatch.setenv("ASSISTANTS_WAREHOUSE", "gs://bucket/prefix/")
    assert WarehouseResource().root() == "gs://bucket/prefix"
    monkeypatch.setenv("ASSISTANTS_WAREHOUSE", "hdfs://bucket/prefix")
    with pytest.raises(ConfigError, match="hdfs://bucket/prefix"):
        WarehouseResource().root()


def test_a_file_uri_is_its_folder(tmp_path):
    uri = f"file://{tmp_path}/wh"
    assert ParquetStore(uri).root == tmp_path / "wh"
    assert DuckDBStore(uri).path == tmp_path / "wh" / "assistants.duckdb"
    assert WarehouseResource(path=uri).root() == str(tmp_path / "wh")


def test_a_buckets_database_is_a_local_cache_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANTS_DUCKDB_CACHE", str(tmp_path / "cache"))
    assert DuckDBStore("s3://bucket/a/b").path == tmp_path / "cache" / "s3" / "bucket" / "a" / "b" / "assistants.duckdb"
    assert DuckDBStore("gs://bucket").path != DuckDBStore("s3://bucket").path
