"""``make demo``: two nights of a changing catalogue, end to end, on this machine alone.

Starts the sandbox API on a free loopback port with its evolving catalogue
(:mod:`assistants_export.sandbox.evolving`: the same number of assistants as the bundled catalogue, some of them
changed, deleted or created from one night to the next) plus a few invalid bodies, and snapshots two nights through
Dagster into its own warehouse, ``./demo-data`` (``--warehouse DIR`` for another): yesterday, then, after switching
the sandbox to today (``POST /_control/date``), today. Each night's IDs file also holds unknown and malformed IDs,
and the second night's still names the assistants deleted since the first, as a real IDs file would. Then it prints
what it made, the sample queries' answers, what changed between the two nights, writes the audit report
(``demo-data/report.html``) and prints the commands to look further, with their dates.

The demo's folder is a whole place of its own: the warehouse, and the Dagster instance that recorded its runs
(``dagster.yaml`` written from the project's, storage in ``.dagster/``), so the project's own UI (``make dev``,
warehouse ``./data``) never shows the demo's snapshots as its own. It never writes ``./data``.

With ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` both set, the sandbox is not started: today's snapshot of that
endpoint is taken in discover mode instead.

``--foundry`` (``make demo-foundry``) runs it against the sandbox's Azure AI Foundry project instead
(``python -m assistants_export.sandbox --foundry``): agents with Foundry's tools, signed in with Entra ID through
``azure-identity`` against the sandbox's loopback token endpoint, one night in discover mode, written to
``./demo-foundry`` by default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from dagster import AssetCheckEvaluation, AssetCheckSeverity, DagsterEventType, DagsterInstance
from rich.console import Console
from rich.table import Table

from assistants_export import sql
from assistants_export.connectors import quality
from assistants_export.connectors.core import settings
from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.report import build_report
from assistants_export.connectors.warehouse import DuckDBStore, open_store
from assistants_export.sandbox import (
    EvolvingCatalog,
    SandboxServer,
    bundled_assistants,
    invalid_assistants,
    serialize_body,
)
from assistants_export.sandbox.entra import TokenServer
from assistants_export.sandbox.foundry import FoundryCatalog
from assistants_export.sandbox.server import CONTROL_DATE_PATH

from .checks import SCHEMA_DRIFT
from .cli import run
from .cli.outfile import OutputTarget
from .cli.output import results_console, show_table
from .instance import write_instance_home

DEMO_KEY = "sk-demo-sandbox-key"
DEMO_WAREHOUSE = "demo-data"
"""Not ./data (the default warehouse): the demo's snapshots must not mix with a user's own."""
EXTRA_IDS = ["asst_doesnotexist000000000001", "asst_doesnotexist000000000002", "../files", "asst bad id"]
EXAMPLES = ("assistants_per_model", "tools_by_type", "fetch_problems")
CHANGE_RATE = 0.25
"""Each assistant changes with this probability a night (and a tenth of it is deleted, as many created): about
a sixth of the catalogue changes between the demo's two nights."""
SEED = 0
REPORT_NAME = "report.html"
"""The audit report (``assistants-export report``) the demo writes into its folder."""


class DemoCatalog(EvolvingCatalog):
    """The sandbox's evolving catalogue, which also serves a few schema-invalid bodies by ID (never listed)."""

    def __init__(self, start: dt.date, extras: Mapping[str, object]) -> None:
        super().__init__(len(bundled_assistants()), CHANGE_RATE, seed=SEED, start=start)
        self.extras = {key: serialize_body(value) for key, value in extras.items()}

    def get(self, assistant_id: str) -> bytes | None:
        return self.extras.get(assistant_id) or super().get(assistant_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistants_export.pipelines.demo",
                                     description="The sandbox demo (make demo).")
    parser.add_argument("--warehouse", help=f"where to write (default ./{DEMO_WAREHOUSE}, with --foundry "
                                             f"./{FOUNDRY_WAREHOUSE})")
    parser.add_argument("--foundry", action="store_true", help="a sandbox Azure AI Foundry project (Entra ID sign-in, "
                                                               "Foundry's tools) instead of the Assistants API")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or (FOUNDRY_WAREHOUSE if args.foundry else DEMO_WAREHOUSE)
    today = dt.datetime.now(dt.UTC).date()
    console = results_console()
    home = write_instance_home(warehouse)
    with _environment(**{registry.DAGSTER_HOME.variable: str(home)}):
        if args.foundry:
            nights = [today]
            status = _run_on_foundry(console, warehouse, today)
        elif registry.API_KEY.raw() and registry.BASE_URL.raw():
            console.print(f"Using {registry.BASE_URL.raw()} (discover mode)")
            status = run(["snapshot", "--discover", "--date", today.isoformat(), "--warehouse", warehouse])
            nights = [today]
        else:
            nights = [today - dt.timedelta(days=1), today]
            status = _run_on_sandbox(console, warehouse, nights)
    if status == 0:
        _show(console, warehouse, nights)
    return status


@contextmanager
def _environment(**variables: str) -> Iterator[None]:
    """These variables set while the demo runs, and put back as they were afterwards."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_on_sandbox(console: Console, warehouse: str, nights: list[dt.date]) -> int:
    invalid = invalid_assistants()
    catalog = DemoCatalog(nights[0], invalid)
    asked: list[str] = []
    with SandboxServer(catalog, api_key=DEMO_KEY) as server, tempfile.TemporaryDirectory() as tmp, \
            _environment(**{registry.API_KEY.variable: DEMO_KEY, registry.BASE_URL.variable: server.base_url}):
        console.print(f"Sandbox API at {server.base_url}: {catalog.n} assistants that change from night to night "
                      f"(python -m assistants_export.sandbox --generated {catalog.n} --change-rate {CHANGE_RATE:g}), "
                      "plus "
                      f"{len(invalid)} invalid bodies")
        for night, date in enumerate(nights):
            if night:
                _switch_date(server.base_url, date)
            # The IDs asked for so far stay in the file: an assistant deleted since is then a confirmed not_found.
            asked = list(dict.fromkeys([*asked, *catalog.live(night)]))
            ids = [*asked, *invalid, *EXTRA_IDS]
            ids_file = Path(tmp) / f"ids-{date}.txt"
            ids_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
            summary = catalog.summary(night)
            what = (f"{summary.live} assistants" if not night else
                    f"{summary.changed} changed, {summary.deleted} deleted, {summary.created} created since "
                    f"{nights[night - 1]}")
            console.print(f"\nNight {night + 1}, {date}: {what}; fetching {len(ids)} IDs (some unknown, "
                          "malformed or invalid on purpose)")
            status = run(["snapshot", "--ids-file", str(ids_file), "--date", date.isoformat(),
                          "--warehouse", warehouse])
            if status != 0:
                return status
    return 0


FOUNDRY_WAREHOUSE = "demo-foundry"
FOUNDRY_AGENTS = 40


def _run_on_foundry(console: Console, warehouse: str, today: dt.date) -> int:
    """Today's snapshot of a sandbox Foundry project, discovered, signed in through azure-identity."""
    with tempfile.TemporaryDirectory(prefix="demo-entra-") as tmp, TokenServer(Path(tmp), lifetime=600) as tokens, \
            SandboxServer(FoundryCatalog(FOUNDRY_AGENTS), auth_style="entra", token_check=tokens.check) as server, \
            _environment(**{registry.BASE_URL.variable: server.base_url, registry.AUTH_STYLE.variable: "entra",
                            registry.ENTRA_CREDENTIAL.variable: "environment", registry.API_KEY.variable: "",
                            **tokens.environment()}):
        console.print(f"Sandbox Foundry project at {server.base_url}: {FOUNDRY_AGENTS} agents with Foundry's tools "
                      f"(python -m assistants_export.sandbox --foundry); Entra ID tokens from {tokens.authority}")
        status = run(["snapshot", "--discover", "--date", today.isoformat(), "--warehouse", warehouse])
        console.print(f"Tokens issued: {tokens.stats.issued}; requests refused for a token: "
                      f"{server.stats.token_refusals}. Foundry's own views: query --warehouse {warehouse} "
                      "--view search_indexes (or connected_agents)")
        return status


def _switch_date(base_url: str, date: dt.date) -> None:
    """Serve ``date``'s catalogue from now on, as anyone can with the sandbox's control endpoint."""
    url = base_url.removesuffix("/v1") + CONTROL_DATE_PATH
    answer = httpx.post(url, params={"date": date.isoformat()}, headers={"Authorization": f"Bearer {DEMO_KEY}"})
    answer.raise_for_status()


def _show(console: Console, warehouse: str, nights: list[dt.date]) -> None:
    root, today = Path(warehouse), nights[-1]
    console.print(f"\nFiles for {today} under {root.resolve()}:")
    for path in sorted((root / "parquet").glob(f"*/snapshot_date={today}/*.parquet")):
        console.print(f"  {path.relative_to(root)}  ({path.stat().st_size:,} bytes)")
    console.print(f"  {settings.DUCKDB_FILENAME}")
    store = DuckDBStore(warehouse)
    for name in EXAMPLES:
        _print_query(console, store, f"examples/{name}", {"snapshot_date": today})
    if len(nights) > 1:
        _print_query(console, store, "audit/changes_between", {"from_date": nights[0], "to_date": today},
                     title=f"What changed after {nights[0]} up to {today} (sql/audit/changes_between.sql)")
    _explain_checks(console, Path(warehouse).resolve())
    errors = quality.error_outcomes(open_store(warehouse), today)
    if errors:
        shown = ", ".join(f"{n} {outcome}" for outcome, n in sorted(errors.items()))
        console.print(f"fetch_errors of {today} holds {shown}: the demo asks for those on purpose (unknown, "
                      "malformed and invalid IDs, and assistants deleted since the night before).")
    _write_report(console, warehouse)
    _next_steps(console, store, warehouse, nights)


def _write_report(console: Console, warehouse: str) -> Path:
    """The audit report of the demo's warehouse, written beside it (the demo's folder is its own place)."""
    page, data = build_report(warehouse)
    path = Path(warehouse).resolve() / REPORT_NAME
    with OutputTarget.parse(path).open(binary=True) as stream:
        stream.write(page.encode("utf-8"))
    console.print(f"\nThe audit report, charts of the {data.days} nights with every assistant's timeline: {path} "
                  f"({path.stat().st_size:,} bytes; open it in a browser, it needs no network)", highlight=False,
                  soft_wrap=True)
    return path


def _print_query(console: Console, store: DuckDBStore, name: str, params: dict[str, object],
                 title: str | None = None) -> None:
    result = store.query(sql.load(name), params)
    table = Table(*result.column_names, title=title or f"sql/{name}.sql")
    for row in result.to_pylist():
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    show_table(console, table)


def _explain_checks(console: Console, home: Path) -> None:
    """The asset checks of the demo's last run, as the UI would show them: which warn or fail, and why."""
    with DagsterInstance.from_config(str(home)) as instance:
        (last,) = instance.get_runs(limit=1)
        records = instance.all_logs(last.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluations = [r.dagster_event.event_specific_data for r in records if r.dagster_event is not None]
    results = [e for e in evaluations if isinstance(e, AssetCheckEvaluation)]
    failed = [e for e in results if not e.passed]
    console.print(f"\nAsset checks of {last.tags.get('dagster/partition', 'the last run')}: "
                  f"{len(results) - len(failed)} of {len(results)} passed.")
    for evaluation in failed:
        level = "warns" if evaluation.severity == AssetCheckSeverity.WARN else "fails"
        console.print(f"  {evaluation.check_name} on {evaluation.asset_key.to_user_string()} {level}: "
                      f"{evaluation.description}")
        if evaluation.check_name == SCHEMA_DRIFT:
            console.print("  (the fields are kept, as JSON in extra_fields: the check says the API serves more "
                          "than the schema this version knows)")


def _next_steps(console: Console, store: DuckDBStore, warehouse: str, nights: list[dt.date]) -> None:
    first, last = nights[0], nights[-1]
    changes = store.query(sql.load("audit/changes_on_date"), {"snapshot_date": last}).to_pylist()
    changed = [row for row in changes if row["field"] is not None]
    cli = ".venv/bin/assistants-export"
    steps = [f'{cli} query --warehouse {warehouse} "SELECT name, model FROM current_assistants LIMIT 5"']
    if len(nights) > 1:
        steps += [f"{cli} diff --warehouse {warehouse} --from {first} --to {last}",
                  f"{cli} as-of {first} --warehouse {warehouse}"]
    if changed:
        steps.append(f"{cli} history {changed[0]['assistant_id']} --warehouse {warehouse}")
    if warehouse == DEMO_WAREHOUSE:
        steps.append("make demo-dev    # the Dagster UI over the demo's warehouse and instance")
    console.print(f"\nThe demo's warehouse is {warehouse}/ (your own snapshots go to ./data by default), with the "
                  f"Dagster instance that recorded its runs ({warehouse}/dagster.yaml). Look further with:")
    for step in steps:
        console.print(f"  {step}", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    sys.exit(main())
