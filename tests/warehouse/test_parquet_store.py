"""Partitions appear whole or not at all, and re-writing a date replaces it."""

import datetime as dt
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assistants_export.connectors.core.schemas import PAYLOAD_METADATA
from assistants_export.connectors.warehouse import ParquetStore

DATE = dt.date(2026, 11, 21)


def rows(*keys):
    return pa.Table.from_pylist([{"snapshot_date": DATE, "content_hash": "h1", "key": k, "value": "v"}
                                 for k in keys], schema=PAYLOAD_METADATA.schema)


def test_write_then_rewrite_replaces_the_partition(tmp_path):
    store = ParquetStore(tmp_path)
    store.write(PAYLOAD_METADATA, DATE, rows("a", "b", "c"))
    store.write(PAYLOAD_METADATA, DATE, rows("d"))
    assert store.read(PAYLOAD_METADATA, DATE).column("key").to_pylist() == ["d"]
    assert len(store.partition_files("payload_metadata", DATE)) == 1
    assert store.dates("payload_metadata") == [DATE]
    assert not any(store.staging.iterdir())


def test_an_empty_partition_keeps_the_schema(tmp_path):
    store = ParquetStore(tmp_path)
    store.write(PAYLOAD_METADATA, DATE, PAYLOAD_METADATA.empty())
    table = store.read(PAYLOAD_METADATA, DATE)
    assert table.num_rows == 0 and table.schema.equals(PAYLOAD_METADATA.schema)
    assert store.partition_files("payload_metadata", DATE)


def test_a_failed_write_leaves_the_old_partition_and_no_staging(tmp_path):
    store = ParquetStore(tmp_path)
    store.write(PAYLOAD_METADATA, DATE, rows("old"))
    with pytest.raises(RuntimeError), store.writer(PAYLOAD_METADATA, DATE) as out:
        out.write(rows("new-1"))
        raise RuntimeError("killed mid-write")
    assert store.read(PAYLOAD_METADATA, DATE).column("key").to_pylist() == ["old"]
    assert not any(store.staging.iterdir())


def test_uncommitted_batches_are_invisible(tmp_path):
    store = ParquetStore(tmp_path)
    writer = store.writer(PAYLOAD_METADATA, DATE)
    writer.write(rows("a"))
    assert store.partition_files("payload_metadata", DATE) == []
    writer.commit()
    assert store.read(PAYLOAD_METADATA, DATE).num_rows == 1


def test_recover_restores_a_partition_moved_aside_by_a_killed_swap(tmp_path):
    store = ParquetStore(tmp_path)
    store.write(PAYLOAD_METADATA, DATE, rows("old"))
    # Simulate a crash between the two renames of a commit: old moved aside, new not yet in place.
    job = store.staging / "deadbeef"
    job.mkdir(parents=True)
    target = store.partition_dir("payload_metadata", DATE)
    os.replace(target, job / f"old__payload_metadata__{target.name}")
    (job / "new").mkdir()
    assert store.partition_files("payload_metadata", DATE) == []
    actions = store.recover()
    assert any("restored payload_metadata" in a for a in actions)
    assert store.read(PAYLOAD_METADATA, DATE).column("key").to_pylist() == ["old"]
    assert not any(store.staging.iterdir())


def test_recover_leaves_the_staging_of_a_live_writer_alone(tmp_path):
    """Two runs on one warehouse: one starting (and recovering) must not delete the other's work."""
    store = ParquetStore(tmp_path)
    writer = store.writer(PAYLOAD_METADATA, DATE)
    writer.write(rows("in-progress"))
    assert store.recover() == []  # the writer's lock is held (flock conflicts even within one process)
    writer.commit()
    assert store.read(PAYLOAD_METADATA, DATE).column("key").to_pylist() == ["in-progress"]
    assert list(store.staging.iterdir()) == []


@pytest.mark.parametrize("existing", [False, True], ids=["new-partition", "replaced-partition"])
def test_a_commit_is_durable_before_and_after_its_rename(tmp_path, monkeypatch, existing):
    """A power loss must not leave a visible but empty or torn file: the file and its folder reach the disk
    before the rename makes them visible, and the folder that holds the rename after it."""
    store = ParquetStore(tmp_path)
    if existing:
        store.write(PAYLOAD_METADATA, DATE, rows("old"))
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.write(PAYLOAD_METADATA, DATE, rows("new"))
    target = str(store.partition_dir("payload_metadata", DATE))
    # A new partition's folder is renamed into place; an existing one has its file replaced (one rename each).
    published = target if not existing else os.path.join(target, "part-0.parquet")
    [publish] = [i for i, e in enumerate(events) if e[0] == "replace" and e[2] == published]
    staged_dir = events[publish][1] if not existing else os.path.dirname(events[publish][1])
    synced = [e[1] for e in events[:publish] if e[0] == "fsync"]
    assert os.path.join(staged_dir, "part-0.parquet") in synced  # the file's bytes, before it is visible
    assert staged_dir in synced  # and the folder entry of the file
    holder = os.path.dirname(published)
    assert ("fsync", holder) in events[publish + 1:]  # the rename itself, after it
    assert store.read(PAYLOAD_METADATA, DATE).column("key").to_pylist() == ["new"]


def test_a_reader_that_listed_a_partition_before_it_was_replaced_reads_it_old_or_new_never_missing(tmp_path):
    """The file a reader listed exists at every moment of a replacement, and a file it has open stays readable."""
    store = ParquetStore(tmp_path)
    store.write(PAYLOAD_METADATA, DATE, rows("old"))
    listed = store.dataset(PAYLOAD_METADATA)  # lists the files now, reads them later
    [path] = store.partition_files("payload_metadata", DATE)
    opened = open(path, "rb")  # noqa: SIM115  (held open across the replacement on purpose)
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(os.path.exists(path))  # at the moment of every rename the listed file is there
        real_replace(src, dst)
        seen.append(os.path.exists(path))

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(os, "replace", replace)
            store.write(PAYLOAD_METADATA, DATE, rows("new", "newer"))
        assert seen and all(seen)
        assert listed.to_table().column("key").to_pylist() == ["new", "newer"]
        assert pq.read_table(opened).column("key").to_pylist() == ["old"]  # the open file is still the old one
    finally:
        opened.close()
