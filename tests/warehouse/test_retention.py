"""Retention (``compact --keep-days``): old dates lose their snapshot rows, payloads nothing needs are collected.

On a folder and on a bucket (moto's S3 server on loopback): four nights in discover mode (one assistant renamed each
night, one gone every other night), a run of the newest date held back by the mass-deletion gate, then a re-run of
that date which no longer names the held body. Retention then keeps the history's answers (``assistant_history``,
``assistant_changes``, ``config_as_of`` on every date, ``current_assistants``) row for row, in DuckDB and over the
stored files, while the old dates' ``raw_assistants`` are gone; the held run's payload stays until it is discarded.
"""


from retention_warehouse import DAYS, both, build, raw_dates

from assistants_export.connectors.core.schemas import PAYLOADS, SNAPSHOT_MEMBERS, SNAPSHOT_RUNS
from assistants_export.connectors.held_runs import discard_held, held_hashes, held_runs
from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.warehouse import open_store
from assistants_export.connectors.warehouse.retention import apply_retention, retention_horizon
from assistants_export.pipelines.cli import run


def payload_hashes(store):
    return {h for d in store.partition_dates(PAYLOADS.name)
            for h in store.read(PAYLOADS, d, columns=["content_hash"]).column("content_hash").to_pylist()}


def test_retention_keeps_every_history_answer_and_the_held_payload(warehouse_uri, capsys):
    root = warehouse_uri
    build(root)
    store = open_store(root)
    before, raw_before = both(root), raw_dates(root)
    runs_before = store.dataset(SNAPSHOT_RUNS).to_table().num_rows
    [held] = held_runs(root)
    orphan = held_hashes(root) - {h for d in store.membership_dates()
                                  for h in store.read(SNAPSHOT_MEMBERS, d).column("content_hash").to_pylist()}
    assert len(orphan) == 1 and orphan <= payload_hashes(store)  # the body of the newest date's first run

    assert run(["compact", "--warehouse", root, "--keep-days", "29", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove the snapshot rows of 2 dates, 2026-01-30 .. 2026-01-31" in out
    assert "would remove 0 row(s)" in out  # the held run needs the orphan
    assert raw_dates(root) == raw_before

    assert run(["compact", "--warehouse", root, "--keep-days", "29"]) == 0
    out = capsys.readouterr().out
    assert "retention (29 days, kept from 2026-02-01): removed the snapshot rows of 2 dates" in out
    assert both(root) == before
    assert raw_dates(root) == (DAYS[2:], DAYS[2:])  # the old dates' raw_assistants are gone, in both
    assert store.dataset(SNAPSHOT_RUNS).to_table().num_rows == runs_before  # the audit trail stays
    assert orphan <= payload_hashes(store)
    assert retention_horizon(store) == DAYS[2]

    discard_held(root, held.run_id)
    assert run(["compact", "--warehouse", root, "--collect-payloads"]) == 0
    out = capsys.readouterr().out
    assert "payloads no kept date, history or held run needs: removed " in out and "payloads 1" in out
    assert not orphan & payload_hashes(store)
    assert "responses_mappings 1" in out  # its Responses mapping goes with it
    assert both(root) == before
    assert apply_retention(store, None).payload_rows == {  # nothing left to collect
        name: 0 for name in ("payloads", "payload_tools", "payload_metadata", "payload_tool_resources",
                             "responses_mappings")}


def test_the_history_never_replays_from_before_the_retention_horizon(tmp_path, caplog):
    root = str(tmp_path / "wh")
    build(root)
    assert run(["compact", "--warehouse", root, "--keep-days", "0"]) == 0  # only the newest date keeps its rows
    before = both(root)
    store = open_store(root)
    assert store.membership_dates() == [DAYS[-1]] and retention_horizon(store) == DAYS[-1]
    result = rebuild_history(root, DAYS[0])  # as a re-run of a removed date would ask
    assert result.start == DAYS[-1] and result.note is not None
    assert "the dates before 2026-03-02 were removed by retention" in result.note
    assert both(root) == before
