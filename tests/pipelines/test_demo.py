"""``make demo`` writes its own warehouse, so a user's first snapshot of today cannot replace it (or be replaced)."""

from assistants_export.pipelines import demo


def test_the_demo_writes_demo_data_and_never_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "demo-data" / "assistants.duckdb").is_file()
    assert not (tmp_path / "data").exists()
    assert "--warehouse demo-data" in " ".join(out.split())
