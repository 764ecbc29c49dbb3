"""``make mutants``: break each guarantee on purpose and check that the test named for it notices.

Each mutant below is a small, realistic bug: a file, the exact original text and
its replacement (several edits when one bug needs them), the guarantee it breaks
and the pytest node IDs that must catch it. For each mutant the script

1. copies the working tree (less ``.venv``, ``.git`` and caches) to a temporary folder;
2. applies the edits, refusing a snippet that is not found exactly once: a stale
   mutant list fails loudly instead of "passing" by testing the original code;
3. runs the named tests with the project's venv Python, ``cwd`` and ``PYTHONPATH``
   set to the copy. The package is installed editable and points at the original
   tree; ``PYTHONPATH`` comes first on ``sys.path``, and the script checks that
   every mutated module is imported from the copy before it trusts the result.

A mutant is *killed* when its tests fail (pytest exit code 1) and *SURVIVED* when
they pass. Before the mutants, the same tests run once on an unmutated copy: they
must pass, or a "killed" would prove nothing. At most two pytest runs go at once.

Prints a table and exits non-zero if a mutant survives, a snippet is stale, a
test ID is unknown or the unmutated run fails. Not part of ``make test``.

    .venv/bin/python tests/mutants/run.py            # every mutant
    .venv/bin/python tests/mutants/run.py -k cap     # those whose name contains "cap"
    .venv/bin/python tests/mutants/run.py --list     # the table of mutants, without running them
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL_IGNORED = {".venv", ".git", ".dagster", "data", "demo-data", "logs", ".logs_queue", ".nux", ".telemetry"}
CACHES = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
                                "*.egg-info")
PARALLEL = 2
TIMEOUT = 1200
"""Seconds one pytest run may take (the crash-safety module needs about three on two busy cores)."""

CRASH = "tests/reliability/test_crash_safety.py::test_a_killed_run_leaves_no_partial_state_and_a_rerun_repairs_it"
HISTORY = "tests/history/test_history_scenario.py"
SAFETY = "tests/reliability/test_snapshot_safety.py"


@dataclass(frozen=True)
class Edit:
    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    name: str
    guarantee: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "duckdb-commit-per-table", "Atomic partitions: DuckDB moves a date's tables in one transaction",
        (Edit("connectors/warehouse/duckdb_store.py",
              "counts[spec.name] = self._replace_date(con, spec, snapshot_date, files[spec.name], source_name)\n",
              "counts[spec.name] = self._replace_date(con, spec, snapshot_date, files[spec.name], source_name)\n"
              "                    con.commit()\n"
              "                    con.begin()\n"),),
        (f"{CRASH}[local-inside the DuckDB transaction, between two tables]",
         f"{CRASH}[local-inside the DuckDB transaction]",
         "tests/warehouse/test_duckdb_store.py::"
         "test_a_load_failing_on_a_later_table_leaves_the_earlier_tables_untouched"),
    ),
    Mutant(
        "parquet-writer-holds-batches", "Bounded memory: one batch held, whatever the number of assistants",
        (Edit("connectors/warehouse/parquet_store.py",
              "            self._writer.write_table(table.cast(self.spec.schema))\n",
              '            self._held = [*getattr(self, "_held", []), table.cast(self.spec.schema)]\n'),
         Edit("connectors/warehouse/parquet_store.py",
              "        self._writer.close()\n        _fsync_file(self._stage / PART_FILE)\n",
              '        for held in getattr(self, "_held", []):\n'
              "            self._writer.write_table(held)\n"
              "        self._writer.close()\n        _fsync_file(self._stage / PART_FILE)\n")),
        ("tests/reliability/test_resource_bounds.py::test_memory_follows_the_batch_not_the_number_of_assistants",),
    ),
    Mutant(
        "nesting-limit-doubled", "Bad input contained: nothing nested deeper than 256 levels is stored",
        (Edit("connectors/openai_assistants/validation.py",
              "        if depth > limit:\n",
              "        if depth > limit * 2:\n"),),
        ("tests/reliability/test_bad_input.py::test_bad_responses_end_in_one_row_each_and_the_rest_lands",),
    ),
    Mutant(
        "retry-after-cap-5s", "Retries bounded and polite: a Retry-After up to 60 s is obeyed exactly",
        (Edit("connectors/openai_assistants/settings.py", "RETRY_AFTER_CAP = 60.0\n", "RETRY_AFTER_CAP = 5.0\n"),),
        ("tests/connectors/test_retry.py::test_a_default_client_obeys_a_retry_after_of_up_to_60_seconds_exactly",),
    ),
    Mutant(
        "history-forgets-unreplayed-dates", "Idempotent reruns: a killed history step is made up by a later night",
        (Edit("connectors/history/engine.py",
              "    if from_date is not None:\n        candidates.append(from_date)\n",
              "    if from_date is not None:\n        candidates = [from_date]\n"),),
        (f"{HISTORY}::test_a_history_step_killed_by_sigkill_heals_on_a_later_night",),
    ),
    Mutant(
        "x-should-retry-false-ignored", "Retries bounded and polite: x-should-retry: false is never retried",
        (Edit("connectors/openai_assistants/verdicts.py",
              '    if server_says == "false":\n        return _final(answer, expected_id, policy)\n',
              '    if server_says == "false":\n        pass\n'),),
        ("tests/reliability/test_faults.py::test_x_should_retry_false_and_invalid_bodies_are_never_retried",
         "tests/connectors/test_retry.py::test_server_header_wins_both_ways"),
    ),
    Mutant(
        "every-404-is-not-found", "A gone endpoint stops the run: only a 404 saying 'No assistant found' is not_found",
        (Edit("connectors/openai_assistants/verdicts.py",
              "    return isinstance(message, str) and bool(pattern.search(message))\n",
              "    return True\n"),),
        ("tests/connectors/test_client.py::test_not_found_is_an_outcome_but_an_unknown_url_is_a_gone_endpoint",
         "tests/pipelines/test_snapshot_e2e.py::"
         "test_a_retired_endpoint_without_preflight_still_stops_at_the_first_answer"),
    ),
    Mutant(
        "ids-not-deduplicated", "Exactly-once rows per date: duplicates are fetched once",
        (Edit("connectors/openai_assistants/ids.py", "        if candidate in seen:\n", "        if False:\n"),),
        ("tests/reliability/test_faults.py::test_every_assistant_lands_exactly_once",
         "tests/connectors/test_ids.py::test_strips_and_dedupes_in_order"),
    ),
    Mutant(
        "partition-written-in-place", "Atomic partitions: a partition is written in staging, then renamed",
        (Edit("connectors/warehouse/parquet_store.py",
              "        self._writer = pq.ParquetWriter(self._stage / PART_FILE, schema,",
              "        self._stage.rmdir()\n"
              "        self._stage = store.partition_dir(spec.name, snapshot_date)\n"
              "        self._stage.mkdir(parents=True, exist_ok=True)\n"
              "        self._writer = pq.ParquetWriter(self._stage / PART_FILE, schema,"),
         Edit("connectors/warehouse/parquet_store.py",
              "        _mkdirs_durably(target.parent)\n        if target.exists():\n",
              "        _mkdirs_durably(target.parent)\n        if False:\n")),
        (f"{CRASH}[local-while fetching]",
         "tests/reliability/test_resource_bounds.py::"
         "test_the_cli_deadline_keeps_the_previous_snapshot_and_says_so_in_one_line"),
    ),
    Mutant(
        "server-echo-not-redacted", "Secrets never written: a key a server echoes back is redacted before storing",
        (Edit("connectors/openai_assistants/client.py",
              "        return redact(text, self._secrets)\n", "        return text\n"),),
        ("tests/reliability/test_secrets.py::test_the_key_is_nowhere_after_faulted_runs_a_hostile_echo_and_a_401",),
    ),
    Mutant(
        "disguised-echo-not-redacted", "Secrets never written: a key echoed disguised (escaped, encoded) is redacted",
        (Edit("connectors/core/errors.py",
              '        if "\\\\" in text or "%" in text or "&#" in text:\n            return self.escapes.sub',
              '        if False:\n            return self.escapes.sub'),),
        ("tests/reliability/test_secrets.py::"
         "test_a_key_echoed_in_disguise_is_redacted_before_it_is_stored_logged_or_shown",
         "tests/connectors/test_redact.py"),
    ),
    Mutant(
        "bomb-inflated-whole", "Bounded memory: a compressed body is never decoded past the cap",
        (Edit("connectors/openai_assistants/decoding.py",
              "self.inflater.decompress(data, cap - self.produced + 1)", "self.inflater.decompress(data)"),),
        ("tests/reliability/test_hostile_servers.py::test_a_compression_bomb_is_never_decoded_past_the_cap",),
    ),
    Mutant(
        "no-request-deadline", "Bounded time: a trickled body cannot outlive the request's or the ID's deadline",
        (Edit("connectors/openai_assistants/client.py",
              "            async with asyncio.timeout(limit):\n", "            async with asyncio.timeout(None):\n"),),
        ("tests/reliability/test_hostile_servers.py::test_a_trickled_body_cannot_outlive_the_id_deadline",
         "tests/reliability/test_hostile_servers.py::"
         "test_the_request_deadline_cuts_every_attempt_and_counts_as_a_timeout"),
    ),
    Mutant(
        "listing-cursor-may-come-back", "Bounded time: a listing whose cursor goes round in circles stops the run",
        (Edit("connectors/openai_assistants/pagination.py", "        if last_id in self._cursors:\n",
              "        if False:\n"),),
        ("tests/reliability/test_hostile_servers.py::test_a_listing_that_never_ends_raises_after_a_few_pages",),
    ),
    Mutant(
        "repeated-key-accepted", "Bad input contained: a key twice in one object makes the body invalid",
        (Edit("connectors/openai_assistants/verdicts.py", "    if repeated is not None:\n", "    if False:\n"),),
        ("tests/reliability/test_hostile_servers.py::test_a_key_twice_in_one_object_makes_the_body_invalid_with_its_path",),
    ),
    Mutant(
        "mass-deletion-guard-flipped", "History: one snapshot may not delete more than 20 % of the live assistants",
        (Edit("connectors/deletions.py",
              "len(deletions) <= threshold * live", "len(deletions) >= threshold * live"),),
        (f"{HISTORY}::test_a_server_answering_404_to_everything_never_wipes_the_history",
         f"{HISTORY}::test_the_history_guard_catches_what_the_fetch_gate_could_not_see",
         "tests/pipelines/test_operations.py::"
         "test_the_mass_deletion_guard_holds_the_run_back_before_anything_changes"),
    ),
    Mutant(
        "held-back-run-committed", "A worse run never replaces a better snapshot: a run that fails a gate is held",
        (Edit("connectors/snapshot/fetch.py", "        if not verdict.passed:\n", "        if False:\n"),),
        (f"{SAFETY}::test_a_mostly_failed_run_is_held_back_with_its_answers_kept",
         f"{SAFETY}::test_a_dead_endpoint_without_preflight_changes_nothing_even_after_a_backfill"),
    ),
    Mutant(
        "stale-held-run-approved-without-force", "Held runs: a date stored since by a newer run needs --force",
        (Edit("connectors/held.py", "                and not force:\n", "                and False:\n"),),
        ("tests/reliability/test_held_runs.py::test_a_held_run_of_a_date_a_newer_run_stored_since_needs_force",),
    ),
    Mutant(
        "held-folder-removed-before-the-history", "Held runs: an approval killed midway is approved again",
        (Edit("connectors/held.py",
              "        result = rebuild_history(warehouse, date, source_name=source_name)\n"
              "        approval.run.remove()",
              "        approval.run.remove()\n"
              "        result = rebuild_history(warehouse, date, source_name=source_name)"),),
        ("tests/reliability/test_held_runs.py::test_an_approval_killed_midway_is_approved_again_and_ends_the_same",),
    ),
    Mutant(
        "views-define-deleted-on-their-own", "A worse run never replaces a better snapshot: views follow the history",
        (Edit("sql/views/current_assistants.sql",
              "    WHERE is_current AND NOT is_deleted\n", "    WHERE is_current\n"),),
        (f"{SAFETY}::test_the_views_agree_with_a_history_step_that_held_a_stored_date_back",),
    ),
    Mutant(
        "query-runs-any-statement", "Queries cannot write: only one SELECT (or EXPLAIN of one) runs",
        (Edit("connectors/warehouse/read_only.py",
              "    elif kind == duckdb.StatementType.SELECT:\n        return\n", "    else:\n        return\n"),),
        ("tests/pipelines/test_cli_query.py::test_no_statement_can_write_a_file_or_lift_the_limits",),
    ),
    Mutant(
        "output-replaces-a-symlink", "Queries cannot write: -o writes only a regular file",
        (Edit("pipelines/cli/outfile.py", "    if not stat.S_ISREG(mode):\n", "    if False:\n"),),
        ("tests/pipelines/test_cli_query.py::test_output_onto_a_symlink_or_a_fifo_is_refused",),
    ),
    Mutant(
        "query-reads-any-file", "Queries read only the warehouse: DuckDB's file access is confined",
        (Edit("sql/query/lock_session.sql", "SET enable_external_access = false;\n", ""),),
        ("tests/pipelines/test_cli_query.py::test_files_outside_the_warehouse_are_refused_in_one_line",),
    ),
    Mutant(
        "ids-file-line-read-whole", "Bounded memory: the IDs file is read a bounded line at a time",
        (Edit("connectors/openai_assistants/ids.py", "            line = self._handle.readline(limit + 2)",
              "            line = self._handle.readline()"),),
        ("tests/reliability/test_resource_bounds.py::"
         "test_an_ids_file_of_one_enormous_line_is_refused_in_bounded_memory",),
    ),
    Mutant(
        "rerun-drops-stored-payloads", "Idempotent reruns: a payload partition only grows, a re-run drops no payload",
        (Edit("connectors/snapshot/sink.py",
              "            for batch in store.iter_batches(writer.spec, snapshot_date):\n"
              "                merged[name].write(batch)\n",
              "            pass\n"),),
        ("tests/pipelines/test_snapshot_e2e.py::test_rerunning_a_date_changes_nothing",),
    ),
    Mutant(
        "writer-lock-never-waits", "One writer per source: a second run of a source waits, then exits 75",
        (Edit("connectors/warehouse/writer_lock.py",
              "        if lock.try_acquire(holder):\n            return\n",
              "        if True:\n            return\n"),),
        ("tests/reliability/test_readers_and_writers.py::"
         "test_a_run_of_a_source_being_written_ends_with_75_naming_the_writer_having_written_nothing",),
    ),
    Mutant(
        "interrupt-before-commit-ignored", "A worse run never replaces a better snapshot: Ctrl-C before the commit",
        (Edit("connectors/core/interrupts.py",
              "        if _state.signal:\n            raise Interrupted\n",
              "        if False:\n            raise Interrupted\n"),),
        ("tests/reliability/test_interrupts.py::"
         "test_an_interrupt_before_the_commit_ends_at_once_and_leaves_the_date_as_it_was",),
    ),
    Mutant(
        "commit-without-fsync", "Atomic partitions: a commit is durable before and after its rename",
        (Edit("connectors/warehouse/parquet_store.py",
              "        _fsync_file(self._stage / PART_FILE)\n        _fsync_dir(self._stage)\n",
              "        pass\n"),),
        ("tests/warehouse/test_parquet_store.py::test_a_commit_is_durable_before_and_after_its_rename",),
    ),
)


class StaleMutant(Exception):
    """An original snippet is not in the code exactly once: the mutant list no longer matches the code."""


@dataclass
class Outcome:
    name: str
    verdict: str
    seconds: float
    detail: str = ""


def copy_tree(destination: Path) -> Path:
    tree = destination / "tree"
    def ignored(folder: str, names: list[str]) -> set[str]:
        top = TOP_LEVEL_IGNORED & set(names) if Path(folder) == ROOT else set()
        return top | CACHES(folder, names)

    shutil.copytree(ROOT, tree, ignore=ignored, symlinks=True)
    return tree


def apply(tree: Path, mutant: Mutant) -> None:
    for edit in mutant.edits:
        path = tree / edit.path
        text = path.read_text(encoding="utf-8")
        found = text.count(edit.old)
        if found != 1:
            raise StaleMutant(f"{mutant.name}: {edit.path} holds the original snippet {found} times, not once: "
                              f"{edit.old.strip()[:80]!r}")
        path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")


def module_of(path: str) -> str:
    """The module a mutated file belongs to: itself for Python, its top-level package for data (``sql/``).

    The top-level folders are the parts of the one import package, ``assistants_export``."""
    if not path.endswith(".py"):
        return f"assistants_export.{path.split('/', 1)[0]}"
    return "assistants_export." + path.removesuffix(".py").replace("/", ".")


def environment(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANTS_", "DAGSTER_"))}
    env.update(PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    return env


def check_imports_from(tree: Path, modules: Sequence[str]) -> None:
    """Fail unless each module is imported from ``tree`` (not from the editable install's original tree)."""
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    print(importlib.import_module(name).__file__)\n"
    done = subprocess.run([sys.executable, "-c", code, *modules], cwd=tree, env=environment(tree),
                          capture_output=True, text=True, timeout=300)
    files = done.stdout.split()
    if done.returncode != 0 or len(files) != len(modules) or \
            not all(Path(f).resolve().is_relative_to(tree.resolve()) for f in files):
        raise RuntimeError(f"the copy's modules are not the ones imported: {files} {done.stderr[-2000:]}")


def run_tests(tree: Path, tests: Sequence[str]) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider",
               f"--basetemp={tree.parent / 'pytest'}", *tests]
    try:
        done = subprocess.run(command, cwd=tree, env=environment(tree), capture_output=True, text=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {TIMEOUT} s"
    return done.returncode, (done.stdout + done.stderr)


def caught_by(output: str) -> str:
    """The first failing test and its message, from pytest's short summary (``-ra``)."""
    lines = output.splitlines()
    failed = next((line.split(" ", 1)[1].split(" - ")[0] for line in lines if line.startswith(("FAILED ", "ERROR "))),
                  "?")
    message = next((line[1:].strip() for line in lines if line.startswith("E ") and line[1:].strip()), "")
    return f"{failed.split('::', 1)[-1]}: {message[:110]}"


def last_lines(output: str, count: int = 25) -> str:
    return "\n".join(output.strip().splitlines()[-count:])


def trial(mutant: Mutant | None, tests: Sequence[str]) -> Outcome:
    """Run ``tests`` on a copy with ``mutant`` applied (or none: the baseline)."""
    name = mutant.name if mutant else "(no mutation)"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        tree = copy_tree(Path(tmp))
        try:
            if mutant:
                apply(tree, mutant)
        except StaleMutant as stale:
            return Outcome(name, "STALE", time.monotonic() - started, str(stale))
        modules = sorted({module_of(e.path) for e in mutant.edits} if mutant
                         else {"assistants_export.connectors.snapshot"})
        check_imports_from(tree, modules)
        code, output = run_tests(tree, tests)
    seconds = time.monotonic() - started
    if mutant is None:
        return Outcome(name, "pass" if code == 0 else "FAIL", seconds, "" if code == 0 else last_lines(output))
    if code == 0:
        return Outcome(name, "SURVIVED", seconds, last_lines(output, 5))
    if code in (1, -1):  # tests failed (or hung): the break was noticed
        return Outcome(name, "killed", seconds, caught_by(output))
    return Outcome(name, "ERROR", seconds, f"pytest exit code {code}:\n{last_lines(output)}")


def table(mutants: Sequence[Mutant], outcomes: dict[str, Outcome] | None = None) -> str:
    lines = ["| mutant | guarantee broken | tests that must catch it | result |", "| --- | --- | --- | --- |"]
    for m in mutants:
        tests = "<br>".join(t.split("/")[-1] for t in m.tests)
        result = f"{outcomes[m.name].verdict} ({outcomes[m.name].seconds:.0f} s)" if outcomes else ""
        lines.append(f"| `{m.name}` | {m.guarantee} | {tests} | {result} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="select", help="only mutants whose name contains this")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the tests on unmutated code")
    args = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if not args.select or args.select in m.name]
    if not mutants:
        parser.error(f"no mutant matches {args.select!r}")
    if args.list:
        print(table(mutants))
        return 0

    # Stale snippets fail before anything runs.
    stale = []
    for mutant in mutants:
        for edit in mutant.edits:
            found = (ROOT / edit.path).read_text(encoding="utf-8").count(edit.old)
            if found != 1:
                stale.append(f"{mutant.name}: {edit.path} holds the original snippet {found} times, not once: "
                             f"{edit.old.strip()[:80]!r}")
    if stale:
        print("error: the mutant list no longer matches the code (update tests/mutants/run.py):", file=sys.stderr)
        print("\n".join(stale), file=sys.stderr)
        return 2

    every_test = list(dict.fromkeys(t for m in mutants for t in m.tests))
    started = time.monotonic()
    print(f"{len(mutants)} mutant(s), {len(every_test)} test ID(s), {PARALLEL} at a time ...", flush=True)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        baseline = None if args.no_baseline else pool.submit(trial, None, every_test)
        futures = {m.name: pool.submit(trial, m, m.tests) for m in mutants}
        outcomes = {}
        for name, future in futures.items():
            outcomes[name] = future.result()
            print(f"  {name}: {outcomes[name].verdict} ({outcomes[name].seconds:.0f} s)", flush=True)
        base = baseline.result() if baseline else None

    print()
    print(table(mutants, outcomes))
    failed = False
    if base is not None:
        print(f"\nunmutated code: the {len(every_test)} tests {base.verdict} ({base.seconds:.0f} s)")
        if base.verdict != "pass":
            failed = True
            print(f"error: the tests fail without any mutation, so 'killed' proves nothing:\n{base.detail}",
                  file=sys.stderr)
    print("\nwhat caught each mutant (the first failing test; pytest runs with -x):")
    for outcome in outcomes.values():
        if outcome.verdict == "killed":
            print(f"  {outcome.name}: {outcome.detail}")
    for outcome in outcomes.values():
        if outcome.verdict in ("SURVIVED", "STALE", "ERROR"):
            failed = True
            print(f"\n{outcome.name}: {outcome.verdict}\n{outcome.detail}", file=sys.stderr)
    killed = sum(o.verdict == "killed" for o in outcomes.values())
    print(f"\n{killed} of {len(outcomes)} mutants killed in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
