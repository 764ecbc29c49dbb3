"""Resource bounds: memory follows the batch size, not the number of assistants; a whole-run deadline holds.

Memory is measured as the peak RSS (``VmHWM``) of a subprocess that does the work,
while the sandbox runs in this process (so the server's bookkeeping is not counted). Nothing here
asserts a duration: the deadline tests assert what the run did and said, and
rely on pytest's timeout only as a safety net.
"""

import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from assistants_export.connectors.core import settings
from assistants_export.connectors.core.errors import DeadlineExceededError
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot
from assistants_export.connectors.warehouse import ParquetStore, parquet_store
from assistants_export.pipelines.cli import run
from assistants_export.sandbox import Fault, FaultPlan, GeneratedCatalog, SandboxServer

pytestmark = pytest.mark.integration

KEY = "sk-bounds-Pz4Kd8Ws1Qv6"
DATE = dt.date(2026, 11, 20)
REPO = Path(__file__).parents[2]


def config(base_url, **overrides):
    return ClientConfig(api_key=Secret(KEY), base_url=base_url, **overrides)


def peak_rss(base_url, warehouse, batch_size):
    """Peak RSS (KiB) of a fresh process running fetch (discover), flatten and load: see ``peak_rss.py``."""
    done = subprocess.run([sys.executable, str(REPO / "tests" / "support" / "peak_rss.py"), base_url, str(warehouse),
                           DATE.isoformat(), str(batch_size)],
                          env={**os.environ, "OPENAI_API_KEY": KEY, "ARROW_DEFAULT_MEMORY_POOL": "system"},
                          capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_memory_follows_the_batch_not_the_number_of_assistants(tmp_path):
    """Discover, flatten, load and replay N and then 4N assistants in a fresh process each: the peak RSS barely moves.

    RSS sees what ``tracemalloc`` cannot: Arrow buffers and DuckDB. Held whole until
    the commit, the raw and flattened tables of the 3N extra assistants add about
    20 MB; streamed a batch at a time, the peak up to the end of the flatten step
    grows by about 4 MB. Arrow is given the system allocator in the child, so freed
    buffers go back at once instead of after jemalloc's time-based decay, which made
    the peak vary by ±15 MB from run to run. The DuckDB load is bounded by its
    ``memory_limit`` instead (it buffers the pages it inserts), so its growth is
    checked against that.
    """
    small, large = 1_000, 4_000
    peaks, stored = {}, {}
    for n in (small, large):
        with SandboxServer(GeneratedCatalog(n, seed=5), api_key=KEY) as srv:
            peaks[n] = peak_rss(srv.base_url, tmp_path / str(n), batch_size=100)
        files = ParquetStore(tmp_path / str(n)).partition_files("payloads", DATE)
        stored[n] = sum(len(r) for f in files for r in _raw_json(f))
    assert stored[large] > 3.9 * stored[small]  # four times the data went through ...
    grown_kib = peaks[large]["flattened"] - peaks[small]["flattened"]
    assert grown_kib < GROWTH_MARGIN_KIB, peaks  # ... in about the same memory
    duckdb_limit_kib = int(settings.DUCKDB_WRITE_MEMORY_LIMIT.removesuffix("MB")) * 1024
    assert peaks[large]["loaded"] - peaks[small]["loaded"] < duckdb_limit_kib, peaks
    # The history step of a first night (every assistant created) decodes one payload at a time.
    history_kib = {n: peaks[n]["history"] - peaks[n]["loaded"] for n in peaks}
    assert history_kib[large] - history_kib[small] < GROWTH_MARGIN_KIB, peaks


GROWTH_MARGIN_KIB = 10 * 1024
"""Allowed growth of the peak RSS from N to 4N: generous against allocator noise, far below holding the data."""


def _raw_json(path):
    return pq.read_table(path, columns=["raw_json"]).column("raw_json").to_pylist()


def test_ids_are_pulled_as_needed_and_results_written_a_batch_at_a_time(tmp_path, monkeypatch):
    """Structural proof for the ID path: IDs are read lazily, results leave memory every ``batch_size``."""
    n, batch_size, concurrency = 600, 50, 8
    catalog = GeneratedCatalog(n, seed=3)
    pulled, finished, gaps, writes = [0], [0], [], []

    class CountingSource(IdSource):
        def raw_ids(self):
            for assistant_id in catalog.ids():
                pulled[0] += 1
                gaps.append(pulled[0] - finished[0])
                yield assistant_id

    original_write = parquet_store.PartitionWriter.write

    def spy_write(self, table):
        if self.spec.name == "snapshot_members" and table.num_rows:
            writes.append((table.num_rows, finished[0]))
        original_write(self, table)

    def progress(count):
        finished[0] += count

    monkeypatch.setattr(parquet_store.PartitionWriter, "write", spy_write)
    with SandboxServer(catalog, api_key=KEY) as srv:
        summary = fetch_snapshot(config(srv.base_url, concurrency=concurrency), CountingSource(ids=()), DATE,
                                 tmp_path, batch_size=batch_size, progress=progress)
    assert summary.outcomes["ok"] == n
    # Never more IDs read ahead than there are requests in flight (plus the one being handed over).
    assert max(gaps) <= concurrency + 1
    # Results are written every batch_size, by the writer thread while fetching goes on.
    assert [rows for rows, _ in writes] == [batch_size] * math.ceil(n / batch_size)
    # Each batch is written once it fills and before the next one has filled: never more than two batches
    # are held, the one being written and the one filling (the progress count lags by the result being handed
    # over, and the next batch waits for the writer, so the count cannot run past it).
    for i, (_, done) in enumerate(writes[:-1]):
        assert batch_size * (i + 1) - 1 <= done <= batch_size * (i + 2) - 1, (i, done)


@pytest.fixture
def slow_server():
    """Every answer waits 0.3 s and a tenth of the first attempts hang for a minute."""
    catalog = GeneratedCatalog(200, seed=1)
    plan = FaultPlan(rate=0.1, seed=1, kinds=(Fault.HANG,), hang_seconds=60)
    with SandboxServer(catalog, api_key=KEY, latency=0.3, faults=plan) as srv:
        yield srv, list(catalog.ids())


def test_a_slow_endpoint_cannot_hold_the_run_past_its_deadline(tmp_path, slow_server):
    srv, ids = slow_server
    slow = config(srv.base_url, concurrency=2, run_deadline=1.0)
    with pytest.raises(DeadlineExceededError) as stopped:
        fetch_snapshot(slow, IdSource(ids=tuple(ids)), DATE, tmp_path)
    message = str(stopped.value)
    assert "1-second deadline" in message and "run_deadline" in message and "nothing was written" in message
    assert "\n" not in message
    assert srv.stats.total_requests < len(ids)  # it really stopped early
    assert not ParquetStore(tmp_path).partition_files("snapshot_members", DATE)
    staging = tmp_path / ".staging"
    assert not staging.exists() or not any(p.is_dir() for p in staging.iterdir())  # no staged data left


def test_the_cli_deadline_keeps_the_previous_snapshot_and_says_so_in_one_line(tmp_path, monkeypatch, capsys,
                                                                                 slow_server):
    srv, ids = slow_server
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    warehouse = tmp_path / "wh"
    args = ["snapshot", "--date", DATE.isoformat(), "--warehouse", str(warehouse), "-q", "--force", "--base-url",
            srv.base_url]
    quick = [i for i in ids if srv.faults.fault_for(i, 1) is None][:3]
    assert run([*args, "--ids", ",".join(quick)]) == 0
    before = ParquetStore(warehouse).partition_files("snapshot_members", DATE)[0].read_bytes()
    assert run([*args, "--run-deadline", "1", "--concurrency", "2", "--ids", ",".join(ids)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not finish within its 1-second deadline" in err
    assert ParquetStore(warehouse).partition_files("snapshot_members", DATE)[0].read_bytes() == before


def test_a_deadline_that_is_not_reached_changes_nothing(tmp_path):
    catalog = GeneratedCatalog(20, seed=2)
    with SandboxServer(catalog, api_key=KEY) as srv:
        summary = fetch_snapshot(config(srv.base_url, run_deadline=600), IdSource(ids=tuple(catalog.ids())), DATE,
                                 tmp_path)
    assert summary.outcomes["ok"] == 20


# --- the IDs file --------------------------------------------------------------------------------------------------

def ids_file_peak(path):
    """Peak RSS (KiB) of a fresh process reading ``path`` as a snapshot does: see ``ids_file_rss.py``."""
    done = subprocess.run([sys.executable, str(REPO / "tests" / "support" / "ids_file_rss.py"), str(path)],
                          capture_output=True, text=True, timeout=600, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


IDS_FILE_MARGIN_KIB = 16 * 1024
"""Allowed growth while reading an IDs file: a bounded line (1 Mi characters) and a chunk, far below holding the
file (a line was 10 x its size in memory; a JSON array, read whole, about 3 x)."""


def test_an_ids_file_of_one_enormous_line_is_refused_in_bounded_memory(tmp_path):
    """The finding: an IDs file without a newline was read as one line, at 10 x its size (300 MB reached 2.99 GB).
    A file of 48 MiB and no newline (sparse: NUL characters, which a file system stores for free) is refused at
    its first line, naming it, after reading about one bounded line."""
    path = tmp_path / "ids.txt"
    with open(path, "wb") as file:
        file.truncate(48 * 1024 * 1024)
    peak = ids_file_peak(path)
    assert peak["error"] is not None and "line 1 is longer than 1,048,576 characters" in peak["error"], peak
    assert peak["read"] - peak["imported"] < IDS_FILE_MARGIN_KIB, peak


def test_a_json_array_on_one_line_is_read_an_element_at_a_time(tmp_path):
    """A JSON array may be one line: 12 MiB of it (400,000 IDs, here one repeated, so the de-duplication set
    stays small) is read in bounded memory, not loaded whole."""
    path = tmp_path / "ids.json"
    element = '"asst_abc123def456ghi789jkl0", '
    count = 12 * 1024 * 1024 // len(element)
    with open(path, "w", encoding="utf-8") as file:
        file.write("[")
        for _ in range(count // 10_000):
            file.write(element * 10_000)
        file.write('"asst_last"]')
    peak = ids_file_peak(path)
    assert peak["error"] is None and peak["accepted"] == 2, peak
    assert peak["duplicates"] == count // 10_000 * 10_000 - 1, peak
    assert peak["read"] - peak["imported"] < IDS_FILE_MARGIN_KIB, peak


def test_a_run_has_a_deadline_by_default_and_none_lifts_it(tmp_path, monkeypatch):
    """Without --run-deadline a fetch is still bounded: the default (6 hours) is what reaches the fetch, from the
    CLI and from Dagster's ``api`` resource; ``none`` (``run_deadline: null`` in Dagster) lifts it. Checked on the
    resolved configuration, not by waiting; the deadline's effect is the tests above (one through the CLI)."""
    from assistants_export.connectors.openai_assistants import settings as source_settings
    from assistants_export.pipelines.resources import AssistantsApiResource

    assert source_settings.DEFAULT_RUN_DEADLINE == 6 * 60 * 60
    assert config("http://127.0.0.1:9/v1").run_deadline == source_settings.DEFAULT_RUN_DEADLINE
    assert AssistantsApiResource(api_key=KEY).client_config().run_deadline == source_settings.DEFAULT_RUN_DEADLINE
    assert AssistantsApiResource(api_key=KEY, run_deadline=None).client_config().run_deadline is None
    seen = []

    def fetch(client_config, *args, **kwargs):  # the fetch step's call, recorded instead of made
        seen.append(client_config.run_deadline)
        raise DeadlineExceededError("stopped by the test")

    monkeypatch.setattr("assistants_export.pipelines.assets.fetch_snapshot", fetch)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    args = ["snapshot", "--date", DATE.isoformat(), "--warehouse", str(tmp_path / "wh"), "-q", "--force",
            "--ids", "asst_abc", "--base-url", "http://127.0.0.1:9/v1"]
    assert run(args) == 1
    assert run([*args, "--run-deadline", "none"]) == 1
    assert run([*args, "--run-deadline", "90"]) == 1
    assert seen == [source_settings.DEFAULT_RUN_DEADLINE, None, 90]
