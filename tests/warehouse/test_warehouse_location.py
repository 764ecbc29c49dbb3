"""A warehouse is a local folder (or a file:// URI); an object-store URI ends every command in one line.

Object storage is being built (docs/object-storage.md). Until then, ``s3://bucket/prefix`` must not quietly
become a local folder named ``s3:``, and a key written into the URI must not be repeated.
"""

import os

import pytest

from connectors.core.errors import ConfigError
from connectors.warehouse import DuckDBStore, ParquetStore
from pipelines.cli import run
from pipelines.resources import WarehouseResource

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
    assert err.count("\n") == 1 and "only a local folder is supported" in err, err
    assert "wJalrXUtnFEMI" not in err and "AKIAEXAMPLE" not in err
    assert os.listdir(tmp_path) == []  # no folder named "s3:" (or anything else) was created


def test_the_variable_is_checked_the_same_way(monkeypatch):
    monkeypatch.setenv("ASSISTANTS_WAREHOUSE", "gs://bucket/prefix")
    with pytest.raises(ConfigError, match="gs://bucket/prefix"):
        WarehouseResource().root()


def test_a_file_uri_is_its_folder(tmp_path):
    uri = f"file://{tmp_path}/wh"
    assert ParquetStore(uri).root == tmp_path / "wh"
    assert DuckDBStore(uri).path == tmp_path / "wh" / "assistants.duckdb"
    assert WarehouseResource(path=uri).root() == str(tmp_path / "wh")
