"""The README stays true: its tables, defaults and commands are checked against the code, and its commands run.

* The table reference is generated from the schemas.
* Every resource field, run-config field and CLI option is documented (whole option names: ``--ids-file``
  does not document ``--ids``).
* Every default in the configuration tables (environment variables, command options, the ``api``
  resource, the run configs) and in the prose about retries and limits equals the code's value, so
  changing a constant in ``settings.py`` without the README fails here.
* Every command in the README's ```sh blocks runs against the sandbox (its URL and key in the
  environment, the warehouse and DAGSTER_HOME in tmp) and exits 0, or is listed in :data:`NOT_RUN`
  with the reason; a new README command that is neither fails the test. They run in order after ``make demo``
  (what it runs), from a folder laid out like the checkout, on the day the test runs: the commands compute their
  dates (``$(date -u +%F)``), so none is written in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import duckdb
import pytest

from assistants_export.connectors.core import settings as warehouse_settings
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.schemas import table_reference_markdown
from assistants_export.connectors.openai_assistants import settings
from assistants_export.connectors.openai_assistants.config import ClientConfig
from assistants_export.pipelines import demo, partitions, schedules
from assistants_export.pipelines.cli import DEBUG_ENV, all_commands, run
from assistants_export.pipelines.config import HistoryConfig, SnapshotConfig
from assistants_export.pipelines.instance import write_instance_home
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource
from assistants_export.pipelines.sources import SOURCE_KEYS, load_sources, source_names
from assistants_export.sandbox import SandboxServer, StaticCatalog, bundled_assistants

REPO = Path(__file__).parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
KEY = "sk-docs-Hq4Wn8Zr2Tb6Lc1M"


# --- Reading the README ------------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    """A table row's cells, backticks dropped, ``\\|`` unescaped."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.replace("\\|", "|").replace("`", "").strip() for cell in cells]


def _tables() -> list[tuple[str, list[str], list[list[str]]]]:
    """Every Markdown table outside code blocks: (the text just above it, header, rows)."""
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    lines = README.splitlines()
    in_code = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("| ---"):
            above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            header, rows = _cells(line), []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            tables.append((above, header, rows))
            continue
        i += 1
    return tables


def _table(above: str) -> dict[str, str]:
    """The first column -> default column of the table right below a line containing ``above``."""
    found = [(header, rows) for text, header, rows in _tables() if above in text]
    assert len(found) == 1, f"expected one table below {above!r} in the README, found {len(found)}"
    header, rows = found[0]
    assert header[1] == "default", header
    return {row[0]: row[1] for row in rows}


def _option_tables() -> dict[str, dict[str, str]]:
    """``assistants-export <command>`` -> its options table (first column -> default)."""
    tables = {}
    for above, header, rows in _tables():
        command = re.search(r"`assistants-export ([\w-]+)` options", above)
        if command and header[:2] == ["option", "default"]:
            tables[command.group(1)] = {row[0]: row[1] for row in rows}
    return tables


def _words(text: str) -> str:
    return " ".join(text.split())


def fmt(value: Any) -> str:
    """A value as the README writes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _client(**environ: str) -> ClientConfig:
    """The client configuration built from exactly these variables (and a key)."""
    return ClientConfig.from_env({"OPENAI_API_KEY": "sk-x", **environ})


# --- Names --------------------------------------------------------------------------------------------


def test_table_reference_is_generated_from_the_schemas():
    section = README.split("<!-- tables:start -->\n", 1)[1].split("<!-- tables:end -->", 1)[0]
    assert section.strip() == table_reference_markdown().strip(), (
        "README table reference is stale: paste the output of python -m assistants_export.connectors.core.schemas")


def test_every_resource_and_run_config_field_is_documented():
    for name in [*AssistantsApiResource.model_fields, *SnapshotConfig.model_fields, *HistoryConfig.model_fields]:
        assert f"`{name}`" in README, name


def _documents_option(option: str, text: str = README) -> bool:
    """Whether ``option`` appears whole inside a code span: not as the prefix of a longer option."""
    return re.search(rf"`[^`]*(?<![\w-]){re.escape(option)}(?![\w-])[^`]*`", text) is not None


def test_option_names_are_matched_whole():
    assert _documents_option("--ids", "`--ids a,b`") and _documents_option("-q", "`-v`, `-q`")
    assert not _documents_option("--ids", "`--ids-file F`") and not _documents_option("--id", "`--ids x`")
    assert not _documents_option("--file", "`--ids-file F`") and not _documents_option("-v", "`--verbose`")


def test_every_cli_option_is_documented():
    for command in all_commands().values():
        for param in command.params:
            for option in param.opts:
                if option.startswith("-"):
                    assert _documents_option(option), f"{command.name} {option}"


# --- Defaults -----------------------------------------------------------------------------------------


def _warehouse_default(monkeypatch: pytest.MonkeyPatch) -> str:
    """What an unset warehouse resolves to, written as the README writes it."""
    monkeypatch.setenv(warehouse_settings.DEFAULT_WAREHOUSE_ENV, "/from/the/variable")
    assert WarehouseResource().root() == "/from/the/variable"
    monkeypatch.delenv(warehouse_settings.DEFAULT_WAREHOUSE_ENV)
    return f"${warehouse_settings.DEFAULT_WAREHOUSE_ENV} or {WarehouseResource().root()}"


def _required_key() -> str:
    with pytest.raises(ConfigError, match=settings.DEFAULT_API_KEY_ENV):
        ClientConfig.from_env({})
    return "(required)"


def _no_source() -> str:
    with pytest.raises(ConfigError, match="no assistants to fetch"):
        SnapshotConfig().id_source()
    return "none"


def _documented(value: str) -> Callable[[], str]:
    return lambda: value


def _one_source() -> str:
    assert source_names() == ["default"]  # without the file: the environment's one source
    return "none"


ENVIRONMENT_DEFAULTS: dict[str, Callable[[], str]] = {
    "OPENAI_API_KEY": _required_key,
    "OPENAI_BASE_URL": lambda: _client().base_url,
    "ASSISTANTS_AUTH_STYLE": lambda: _client().auth_style,
    "OPENAI_API_VERSION": lambda: (
        f"{_client(ASSISTANTS_AUTH_STYLE='azure').api_version} with azure, "
        f"{ClientConfig.from_env({'ASSISTANTS_AUTH_STYLE': 'entra'}).api_version} with entra"),
    "ASSISTANTS_ENTRA_CREDENTIAL": lambda: _client().entra_credential,
    "ASSISTANTS_ENTRA_SCOPE": lambda: _client().entra_scope,
    "OPENAI_ORG_ID": lambda: fmt(_client().organization),
    "OPENAI_PROJECT_ID": lambda: fmt(_client().project),
    "ASSISTANTS_WAREHOUSE": lambda: WarehouseResource().root(),
    "ASSISTANTS_IDS_FILE": _no_source,
    "ASSISTANTS_DISCOVER": _no_source,
    "ASSISTANTS_SOURCES_FILE": _one_source,
    "ASSISTANTS_START_DATE": lambda: (
        f"the first stored snapshot, or yesterday if earlier; {_cli_start_date()} in the CLI"
        if partitions.default_start_date("/nonexistent", dt.date(2026, 11, 21)) == dt.date(2026, 11, 20) else "?"),
    "ASSISTANTS_SCHEDULE_CRON": lambda: schedules.DEFAULT_CRON,
    "ASSISTANTS_SCHEDULE_TIMEZONE": lambda: schedules.DEFAULT_TIMEZONE,
    "ASSISTANTS_DUCKDB_CACHE": lambda: warehouse_settings.DEFAULT_DUCKDB_CACHE,
    "ASSISTANTS_WRITER_WAIT": lambda: fmt(WarehouseResource().writer_wait_seconds()),
    # Not ours: without it the CLI runs in an ephemeral instance, which the commands test below exercises.
    "DAGSTER_HOME": _documented("none"),
    "ASSISTANTS_DEBUG": lambda: "none" if DEBUG_ENV == "ASSISTANTS_DEBUG" else "?",
}
"""README variable -> the code's default, as the README writes it. Each documented variable needs an entry."""


def test_environment_variable_defaults_match_the_code():
    table = _table("### Environment variables")
    assert set(table) == set(ENVIRONMENT_DEFAULTS), "document the variable, or say here how to check its default"
    for variable, default in table.items():
        assert default == ENVIRONMENT_DEFAULTS[variable](), variable
    start = partitions.daily_partitions.get_first_partition_window()
    assert start is not None and start.start.date().isoformat() == partitions.start_date()


def _cli_start_date() -> str:
    """The start date the CLI lays its partitions out from when the variable is unset."""
    code = "import os; import assistants_export.pipelines.cli; print(os.environ['ASSISTANTS_START_DATE'])"
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANTS_START_DATE"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stdout.strip()


def _click_option(command: click.Command, option: str) -> click.Parameter:
    found = [p for p in command.params if option in p.opts or option in p.secondary_opts]
    assert found, f"the README documents {option} for {command.name}, which has no such option"
    return found[0]


def _default(command: click.Command, param: click.Parameter) -> Any:
    """The value click passes when the option is not given (None when it has no default)."""
    value = param.get_default(click.Context(command), call=True)
    return None if value is _CLICK_UNSET else value


_CLICK_UNSET = getattr(click.core, "UNSET", object())
"""What click 8.3+ returns for an option without a default."""


def _effective_defaults() -> dict[str, str]:
    """Defaults that come from the client configuration when an option is not given."""
    client = _client()
    return {name: fmt(getattr(client, name)) for name in ClientConfig.__dataclass_fields__}


SPECIAL_OPTION_DEFAULTS: dict[tuple[str, str], Callable[[pytest.MonkeyPatch], str]] = {
    ("snapshot", "--date"): lambda _: "today (UTC)",  # the commands test runs a snapshot without --date
    ("snapshot", "--source"): lambda _: "every configured source" if source_names() == ["default"] else "?",
    ("snapshot", "--base-url"): lambda _: f"${settings.DEFAULT_BASE_URL_ENV}",
    ("snapshot", "--auth-style"): lambda _: (
        f"$ASSISTANTS_AUTH_STYLE or {_client().auth_style}"
        if _client(ASSISTANTS_AUTH_STYLE="azure", OPENAI_API_VERSION="v").auth_style == "azure" else "?"),
    ("snapshot", "--api-version"): lambda _: (
        "$OPENAI_API_VERSION" if _client(OPENAI_API_VERSION="2099-01-01").api_version == "2099-01-01" else "?"),
    ("snapshot", "--writer-wait"): lambda _: f"${warehouse_settings.WRITER_WAIT_ENV} or "
                                              f"{fmt(WarehouseResource().writer_wait_seconds())}",
    ("query", "--format"): lambda _: "from --output's extension, else table",
    ("query", "--output"): lambda _: "the terminal",
    ("query", "--source"): lambda _: f"duckdb if {warehouse_settings.DUCKDB_FILENAME} exists, else parquet",
    ("query", "--param"): lambda _: "",  # repeatable: none given binds nothing
    ("migrate", "--as-of"): lambda _: "the current configurations",  # the commands test runs it without --as-of
    ("migrate", "--source"): lambda _: f"duckdb if {warehouse_settings.DUCKDB_FILENAME} exists, else parquet",
    ("report", "--from"): lambda _: "the first stored snapshot",
    ("report", "--to"): lambda _: "the newest stored snapshot",
    ("report", "--source"): lambda _: f"duckdb if {warehouse_settings.DUCKDB_FILENAME} exists, else parquet",
}
"""(command, option) -> the README's wording of a default that is not a plain value."""


def test_command_option_defaults_match_the_code(monkeypatch):
    tables = _option_tables()
    assert {"snapshot", "query"} <= set(tables)
    effective = _effective_defaults()
    for name, table in tables.items():
        command = all_commands()[name]
        for key, default in table.items():
            options = re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", key)
            params = {_click_option(command, option).name: _click_option(command, option) for option in options}
            where = f"{name} {key}"
            if " / " in key:  # alternatives sharing a row ("--ids a,b / --ids-file F / --discover", '"SQL" / --view')
                assert default == "" and all(not _default(command, p) for p in params.values()), where
                continue
            ((param_name, param),) = params.items()
            value = _default(command, param)
            long = max(options, key=len)
            if (name, long) in SPECIAL_OPTION_DEFAULTS:
                assert value is None, where
                expected = SPECIAL_OPTION_DEFAULTS[name, long](monkeypatch)
            elif long == "--warehouse":
                assert value is None, where
                expected = _warehouse_default(monkeypatch)
            elif isinstance(param, click.Option) and param.is_flag:
                assert value is False, where
                expected = ""
            elif value is not None:
                expected = fmt(value)
            elif isinstance(param, click.Option) and param.required:
                expected = "(required)"
            elif param_name in effective:  # e.g. --concurrency: unset, the client's default applies
                expected = effective[param_name]
            else:
                expected = "none" if isinstance(param, click.Option) else ""
            assert default == expected, where


def test_api_resource_defaults_match_the_code():
    table = _table("Resource `api` (`AssistantsApiResource`)")
    fields = AssistantsApiResource.model_fields
    documented = set()
    for key, default in table.items():
        names = [name.strip() for name in key.split(",")]
        documented.update(names)
        if names == ["api_key"]:  # never part of the definitions: read from the variable when a run starts
            assert not fields["api_key"].is_required() and fields["api_key"].default is None
            assert default == "none"
            continue
        values = [fields[name].get_default(call_default_factory=True) for name in names]
        if default == "from the variables above":  # resolved from the environment when left None
            assert values == [None] * len(values), key
            continue
        assert default == ", ".join(fmt(value) for value in values), key
    assert documented == set(fields), "every field of the api resource has a row"
    # The resource and the client agree, so the README's table also describes the CLI and the library.
    client = _client()
    for name, field in fields.items():
        value = field.get_default(call_default_factory=True)
        if value is not None and name != "api_key":
            assert getattr(client, name) == value, name


def test_every_key_of_the_sources_file_is_documented_and_the_example_loads(tmp_path):
    table = _table("the single source reads")
    assert list(table) == list(SOURCE_KEYS)
    section = README.split("### Many sources", 1)[1].split("\n## ", 1)[0]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "sources.toml").write_text(example, encoding="utf-8")
    sources = load_sources(str(tmp_path / "sources.toml"))
    assert list(sources) == ["default", "eu", "foundry"] and sources["eu"].ids_file == str(tmp_path / "eu-ids.csv")
    foundry = sources["foundry"].client_config(environ={})
    assert (foundry.auth_style, foundry.api_version, foundry.entra_credential, foundry.dialect) == (
        "entra", "v1", "managed_identity", "foundry")
    assert "--source eu" in section and "ASSISTANTS_SOURCES_FILE=" in section


def test_run_config_and_warehouse_defaults_match_the_code(monkeypatch):
    for config in (SnapshotConfig, HistoryConfig):
        paragraph = _words(README.split(f"(`{config.__name__}`)", 1)[1].split("\n\n", 1)[0])
        documented = {}
        for name, note in re.findall(r"`(\w+)` \(([^()]*)\)", paragraph):
            default = re.search(r"default ([^,]+)$", note)
            if default:
                documented[name] = default.group(1)
        for name, field in config.model_fields.items():
            value = field.get_default(call_default_factory=True)
            if value not in (None, False) or name in documented:
                assert documented.get(name) == fmt(value), f"{config.__name__}.{name}"
    warehouse = re.search(r"Resource `warehouse` \(`WarehouseResource`\): `path` \(default ([^)]*)\)", README)
    assert warehouse and warehouse.group(1).replace("`", "") == _warehouse_default(monkeypatch)


def _mib(size: int) -> str:
    assert size % (1 << 20) == 0, "the README states the body cap in MiB"
    return f"{size >> 20} MiB"


def test_defaults_in_the_prose_match_the_code():
    s = settings
    statements = [
        f"obeyed exactly when positive and at most {fmt(s.RETRY_AFTER_CAP)} s",
        f"exponential backoff from {fmt(s.INITIAL_RETRY_DELAY)} s doubling to {fmt(s.MAX_RETRY_DELAY)} s",
        f"At most {s.DEFAULT_MAX_ATTEMPTS} attempts per request and {fmt(s.DEFAULT_ID_DEADLINE)} s per ID",
        f"at most {s.DEFAULT_CONCURRENCY} in flight (`--concurrency`)",
        f"Timeouts: connect {fmt(s.CONNECT_TIMEOUT)} s, read {fmt(s.READ_TIMEOUT)} s.",
        f"One attempt takes at most {fmt(s.REQUEST_DEADLINE)} s in all",
        f"A body larger than {_mib(s.MAX_RESPONSE_BYTES)} is refused",
        f"fetching a date whose day ended more than {fmt(partitions.FETCH_WINDOW.total_seconds() / 3600)} hours ago",
        f"`OPENAI_API_VERSION` (default `{s.DEFAULT_AZURE_API_VERSION}`)",
        f"more than {fmt(HistoryConfig().mass_deletion_threshold * 100)} % of the live assistants",
        f"runs the job `assistants_snapshot` at 0{schedules.DEFAULT_CRON.split()[1]}:00 "
        f"{schedules.DEFAULT_TIMEZONE}",
    ]
    text = _words(README)
    for statement in statements:
        assert _words(statement) in text, statement
    assert schedules.DEFAULT_CRON.split()[0] == "0" and len(schedules.DEFAULT_CRON.split()[1]) == 1


# --- Commands -----------------------------------------------------------------------------------------


NOT_RUN: dict[str, str] = {
    "make demo": "installs the checkout first; test_readme_commands_run runs what it then runs (python -m "
                 "assistants_export.pipelines.demo) before the other commands",
    "make test": "is this test suite",
    "make dev": "the Dagster UI, until stopped: tests/pipelines/test_dg.py starts its dg dev and runs the job from "
                "its GraphQL API",
    "export ": "sets the variables the other commands use; this test sets them to the sandbox",
    ".venv/bin/pip install ": "needs a package index (tests have no network)",
    "cp deploy/dagster.postgres.yaml ": "needs a PostgreSQL server; tests/pipelines/test_production_instance.py "
                                        "runs that configuration",
    ".venv/bin/dagster-daemon run": "a daemon that runs until it is stopped",
    "cp deploy/.env.example ": "writes the settings file of the Docker deployment in the checkout",
    "docker compose ": "needs a Docker daemon; tests/pipelines/test_deploy.py checks the compose file, the image's "
                       "commands and the instance configuration without one",
    ".venv/bin/dagster-webserver ": "the Dagster UI: a web server that runs until it is stopped",
    "make sandbox": "a server that runs until Ctrl-C; this test starts the same sandbox on a free port",
    ".venv/bin/dg list defs": "tests/pipelines/test_dg.py runs it from the project root",
    ".venv/bin/dg check defs": "tests/pipelines/test_dg.py runs it from the project root",
    ".venv/bin/dg launch ": "tests/pipelines/test_dg.py launches today's partition against the sandbox",
    ".venv/bin/assistants-export snapshot --source eu": "needs the sources file's second endpoint; "
                                                         "tests/pipelines/test_sources_e2e.py snapshots two sandbox "
                                                         "servers as two sources",
    "dg scaffold defs ": "tests/pipelines/test_component.py scaffolds the component into a fresh dg project",
    ".venv/bin/python -m build ": "tests/test_wheel.py builds the sdist and the wheel",
    "pip install -c constraints.txt dist/": "tests/test_wheel.py installs the wheel into a fresh virtualenv",
    "assistants-export --version": "tests/test_wheel.py runs the installed command's --version",
}
"""README commands that this test does not run (matched by prefix), and why."""


def readme_commands() -> list[str]:
    """Every command of the README's ```sh blocks, continuation lines joined, in order."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", README, flags=re.M | re.S):
        for command in re.sub(r"\\\n\s*", "", block).splitlines():
            if command.strip() and not command.lstrip().startswith("#"):
                commands.append(command.strip())
    return commands


def _not_run(command: str) -> str | None:
    return next((prefix for prefix in NOT_RUN if command.startswith(prefix)), None)


def _argv(command: str) -> list[str]:
    """The command's words as a shell hands them to the program: quotes removed, ``$(date -u +%F)`` and the like
    run, variables expanded (from this process's environment), the trailing comment dropped."""
    script = f"set -- {command}\nprintf '%s\\0' \"$@\""
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.split("\0")[:-1]


def test_every_readme_command_is_run_or_listed_as_not_run():
    commands = readme_commands()
    assert len(commands) >= 20, commands
    runnable = [c for c in commands if _not_run(c) is None]
    unknown = [c for c in runnable if _argv(c)[0] not in (".venv/bin/assistants-export", ".venv/bin/dagster")]
    assert not unknown, f"README commands neither run by test_readme_commands_run nor listed in NOT_RUN: {unknown}"
    stale = [prefix for prefix in NOT_RUN if not any(c.startswith(prefix) for c in commands)]
    assert not stale, f"NOT_RUN lists commands the README no longer has: {stale}"


def test_the_shell_gives_each_command_its_words():
    assert _argv('.venv/bin/x --a "b c" --d="$(echo e)"  # a comment') == [".venv/bin/x", "--a", "b c", "--d=e"]
    today = dt.datetime.now(dt.UTC).date()
    assert _argv('x "$(date -u +%F)" "$(date -u -d yesterday +%F)"')[1:] == [
        today.isoformat(), (today - dt.timedelta(days=1)).isoformat()]


def test_the_examples_name_no_fixed_date():
    """A date written into a command stops working once the fetch window or the history has moved on: the commands
    compute theirs (``$(date -u +%F)``), or read the dates ``make demo`` wrote."""
    dated = [c for c in readme_commands() if re.search(r"\b20\d\d-\d\d-\d\d\b", c)]
    assert not dated, dated


@pytest.fixture
def sandbox():
    """The bundled assistants, plus one for each ``asst_`` ID the README's commands name."""
    assistants = bundled_assistants()
    named = sorted(set(re.findall(r"\basst_\w+", " ".join(readme_commands()))))
    for i, assistant_id in enumerate(named):
        assistants.append({**assistants[i], "id": assistant_id})
    with SandboxServer(StaticCatalog(assistants), api_key=KEY) as server:
        yield server, [a["id"] for a in assistants]


def _substitute(argv: list[str], elsewhere: Path) -> list[str]:
    """An absolute warehouse folder of the README (``/srv/assistants``) becomes one in tmp; a relative one (``./data``
    by default, ``demo-data``) is the test's working folder's, as it is the checkout's for a user."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "--warehouse" and os.path.isabs(out[i + 1]):
            out[i + 1] = str(elsewhere)
    return out


def _snapshot_dates(warehouse: Path) -> set[dt.date]:
    with duckdb.connect(str(warehouse / warehouse_settings.DUCKDB_FILENAME), read_only=True) as con:
        return {row[0] for row in con.execute("SELECT snapshot_date FROM snapshot_runs").fetchall()}


@pytest.mark.integration
def test_readme_commands_run(sandbox, tmp_path, monkeypatch, capsys):
    """The first hour, in order: ``make demo`` (what it runs once installed), then every README command against
    the sandbox, on today's dates, from a folder laid out like the checkout."""
    server, ids = sandbox
    home, cwd = tmp_path / "dagster_home", tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "ids.csv").write_text("assistant_id\n" + "\n".join(ids) + "\n", encoding="utf-8")
    (cwd / "sql").symlink_to(REPO / "sql")  # the README runs the bundled files from a checkout's root
    monkeypatch.chdir(cwd)
    today = dt.datetime.now(dt.UTC).date()

    # make demo: two nights of the sandbox's evolving catalogue into demo-data/, with its own Dagster instance.
    assert demo.main([]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--warehouse demo-data" in out
    assert not (cwd / "data").exists()  # the demo never writes ./data, the default warehouse
    assert _snapshot_dates(cwd / "demo-data") == {today - dt.timedelta(days=1), today}
    assert (cwd / "demo-data" / "dagster.yaml").is_file() and (cwd / "demo-data" / ".dagster").is_dir()
    assert "asst_gen000000000000000000003" in out  # the assistant the README's history example names
    assert "of 17 passed" in out  # every check of the last night passes (none warns on the demo)
    report = cwd / "demo-data" / "report.html"
    assert f"{report.resolve()} (" in out and report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    environment = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url,
                   "DAGSTER_HOME": str(write_instance_home(home))}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    bin_dir = Path(sys.executable).parent

    failures, ran = [], 0
    for command in readme_commands():
        if _not_run(command):
            continue
        argv = _substitute(_argv(command), tmp_path / "srv")
        ran += 1
        if argv[0] == ".venv/bin/assistants-export":
            status = run(argv[1:])
            out, err = capsys.readouterr()
        else:  # the dagster CLI, in its own process, against the same sandbox, warehouse and instance
            done = subprocess.run([str(bin_dir / Path(argv[0]).name), *argv[1:]], cwd=cwd, capture_output=True,
                                  text=True, timeout=240, env={**os.environ, **environment})
            status, out, err = done.returncode, done.stdout, done.stderr
        if status != 0:
            failures.append(f"{command}\n  exit {status}: {err.strip()[-2000:]}")
            continue
        # Output sanity: a file asked for exists (a Parquet file is Parquet); a query prints something.
        for flag in ("--output", "-o"):
            if flag in argv:
                written = cwd / argv[argv.index(flag) + 1]
                if not written.is_file() or (written.suffix == ".parquet" and written.read_bytes()[:4] != b"PAR1"):
                    failures.append(f"{command}\n  did not write {written.name}")
        if argv[1] in ("query", "views", "history", "diff", "as-of") and "--output" not in argv and not out.strip():
            failures.append(f"{command}\n  printed nothing")
        if argv[1] == "snapshot" and ("assistant_tools" not in out or "payloads" in out):
            failures.append(f"{command}\n  its summary does not list the tables of the table reference")
        if argv[1] == "diff" and " 0 assistant(s) changed" in f" {out}":
            failures.append(f"{command}\n  shows no change")
        if argv[1] == "history" and "updated" not in out:
            failures.append(f"{command}\n  shows no change")
    assert ran >= 15
    assert not failures, "\n".join(failures)

    # as-of a day before the history begins says so in one line (an empty table would pass for "nothing was live").
    before = (today - dt.timedelta(days=2)).isoformat()
    assert run(["as-of", before, "--warehouse", "demo-data"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {before} is before the history of demo-data begins (it starts on "
                   f"{today - dt.timedelta(days=1)})"), err

    # "today's snapshot": a snapshot without --date lands on today's (UTC) partition, in ./data by default.
    assert {today, today - dt.timedelta(days=1)} <= _snapshot_dates(cwd / "data")
