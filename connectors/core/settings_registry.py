"""Every environment variable the project reads, declared once: its name, default, kind, help and group.

The one place a variable is named. The client configuration, the warehouse, the sources, the schedule, the CLI
(its options' help), the Dagster resources, run configs and Component (their field descriptions), the README's
table of environment variables (:func:`environment_table_markdown`, pasted between ``<!-- environment:start -->``
and ``<!-- environment:end -->``) and the Docker deployment (``deploy/dagster.docker.yaml``'s ``env_vars`` and
``deploy/docker-compose.yaml``'s run environment, written by ``python -m assistants_export.pipelines.instance``)
all read it. ``tests/test_settings_registry.py`` fails when a module names an ``ASSISTANTS_*``/``OPENAI_*`` variable
that is not declared here, or reads one by its literal name instead of through its :class:`Setting`.

The gates' settings (``max_failed_share``, ``mass_deletion_threshold``) have no variable, but their default and
help are declared here too, so the CLI's options and the Dagster run configs say the same thing.

A default is the text the variable would hold (``None``: unset means "none"); the code that owns a setting parses
it (the writer wait as seconds, the start date as a date, the schedule as cron), as it parses the variable.
Printing the README table: ``python -m assistants_export.connectors.core.settings_registry``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

AuthStyle = Literal["bearer", "azure", "entra"]
AUTH_STYLES: tuple[AuthStyle, ...] = ("bearer", "azure", "entra")
"""The values of ``ASSISTANTS_AUTH_STYLE`` (and ``auth_style`` wherever it is set)."""
DEFAULT_AUTH_STYLE: AuthStyle = "bearer"

Group = Literal["client", "gates", "ids", "warehouse", "schedule", "dagster", "cli", "deployment", "testing"]
Deploy = Literal["", "runs", "services", "instance"]


@dataclass(frozen=True)
class Setting:
    """One environment variable (or, with ``env`` None, one setting without a variable)."""

    name: str
    """The setting's name where it is a field or an option (``base_url``: ``--base-url``, the ``api`` resource's
    field); for a variable that sets no field, its own name in lower case."""
    env: str | None
    group: Group
    help: str
    """One line, for the CLI's ``--help`` and the Dagster fields' descriptions."""
    default: str | None = None
    """What an unset (or empty) variable stands for, as the variable would hold it; None: nothing."""
    kind: str = "text"
    """What the value is (``url``, ``path``, ``seconds``, ``date``, ``cron``, ``switch``, ``choice``...)."""
    doc: str = ""
    """The README's "meaning" cell (Markdown); empty: :attr:`help`."""
    doc_default: str = ""
    """The README's "default" cell when it is not the plain :attr:`default` (Markdown)."""
    readme: bool = True
    """Listed in the README's table of environment variables (the deployment's pass-through ones are not)."""
    deploy: Deploy = ""
    """In the Docker deployment: ``runs`` (handed to every run container by name, and set by the compose file),
    ``services`` (set by the compose file for the code location and the daemon only), ``instance`` (handed to runs,
    set by the compose file's instance environment by hand), or nowhere."""
    deploy_required: str | None = None
    """The deployment refuses to start without it: the example value its message gives (``""``: none)."""

    def raw(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The variable's value as set; None when it is unset or empty."""
        return (os.environ if environ is None else environ).get(self.variable) or None

    def value(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The variable's value, else the default."""
        return self.raw(environ) or self.default

    @property
    def variable(self) -> str:
        """The variable's name (an AssertionError names a setting that has none)."""
        assert self.env is not None, f"{self.name} has no variable"
        return self.env

    @property
    def fallback(self) -> str:
        """The default of a setting that has one (an AssertionError names one that has none)."""
        assert self.default is not None, f"{self.name} has no default"
        return self.default

    def text(self, environ: Mapping[str, str] | None = None) -> str:
        """The variable's value, else the default, of a setting that has one."""
        return self.raw(environ) or self.fallback

    def default_help(self, fallback: object = None) -> str:
        """``"Default $VAR, else X."`` for a field or option left unset (``fallback``: X when not the default)."""
        shown = self.default if fallback is None else fallback
        otherwise = f", else {shown}" if shown is not None else ""
        return f"Default ${self.variable}{otherwise}."

    def readme_default(self) -> str:
        if self.doc_default:
            return self.doc_default
        return "none" if self.default is None else f"`{self.default}`"


# --- The API client (connectors/openai_assistants) ------------------------------------------------------------

API_KEY = Setting(
    "api_key_env", "OPENAI_API_KEY", "client", default="OPENAI_API_KEY", kind="secret",
    help="Environment variable holding the API key; its name (never the key) appears in messages.",
    doc="The API key. Another variable can be named with `--api-key-env` / `api_key_env`. Checked when read, "
        "wherever it is read (the CLI, the `api` resource, a source's `api_key_env`): a key that ends in a newline, "
        "has whitespace at either end, or holds a control or non-ASCII character is refused in one line naming the "
        "variable and what is wrong, never the key.",
    doc_default="(required)", deploy="runs", deploy_required="")
"""The default variable the key is read from; its ``default`` is that variable's own name (``api_key_env``)."""
BASE_URL = Setting(
    "base_url", "OPENAI_BASE_URL", "client", default="https://api.openai.com/v1", kind="url",
    help="API root.", deploy="runs")
AUTH_STYLE = Setting(
    "auth_style", "ASSISTANTS_AUTH_STYLE", "client", default=DEFAULT_AUTH_STYLE, kind="choice",
    help="'bearer' (OpenAI), 'azure' (api-key header, api-version parameter, /openai path) or 'entra' "
         "(Azure AI Foundry Agent Service: Entra ID token, api-version parameter, the project endpoint).",
    doc="`bearer`, `azure` or `entra` (Azure AI Foundry Agent Service, Entra ID sign-in).", deploy="runs")
API_VERSION = Setting(
    "api_version", "OPENAI_API_VERSION", "client", kind="text",
    help="Azure api-version (the api-version query parameter).",
    doc="Azure `api-version`.", doc_default="`2024-05-01-preview` with azure, `v1` with entra", deploy="runs")
ENTRA_CREDENTIAL = Setting(
    "entra_credential", "ASSISTANTS_ENTRA_CREDENTIAL", "client", default="default", kind="choice",
    help="auth_style 'entra': the azure-identity credential: default (DefaultAzureCredential), environment, "
         "workload_identity, managed_identity or azure_cli.",
    doc="With `entra`: `default` (`DefaultAzureCredential`), `environment`, `workload_identity`, `managed_identity` "
        "or `azure_cli`; each reads its own variables (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, "
        "`AZURE_CLIENT_SECRET`...).")
ENTRA_SCOPE = Setting(
    "entra_scope", "ASSISTANTS_ENTRA_SCOPE", "client", default="https://ai.azure.com/.default",
    help="auth_style 'entra': the OAuth2 scope tokens are asked for.",
    doc="With `entra`: the scope tokens are asked for.")
ORGANIZATION = Setting(
    "organization", "OPENAI_ORG_ID", "client", help="OpenAI-Organization header.",
    doc="`OpenAI-Organization` header.", deploy="runs")
PROJECT = Setting(
    "project", "OPENAI_PROJECT_ID", "client", help="OpenAI-Project header.",
    doc="`OpenAI-Project` header.", deploy="runs")

# --- The warehouse (connectors/warehouse) ----------------------------------------------------------------------

WAREHOUSE = Setting(
    "warehouse", "ASSISTANTS_WAREHOUSE", "warehouse", default="./data", kind="path or URI",
    help="Warehouse folder, or s3://bucket/prefix (gs://, az://).",
    doc="Warehouse folder (or `file:///path`), or an object store: `s3://bucket/prefix` (`gs://`, `az://`), the same "
        "tables as Delta tables, with DuckDB as a local cache under `ASSISTANTS_DUCKDB_CACHE` "
        "(`docs/object-storage.md`).",
    deploy="runs", deploy_required="s3://bucket/prefix")

# --- Where the IDs come from (pipelines/sources.py) ------------------------------------------------------------

IDS_FILE = Setting(
    "ids_file", "ASSISTANTS_IDS_FILE", "ids", kind="path",
    help="File of IDs: one per line, CSV with an assistant_id column, or a JSON array.",
    doc="IDs file used when neither a run (the CLI's options, Dagster's run config) nor its source's table names "
        "where the IDs come from (scheduled runs).", deploy="runs")
DISCOVER = Setting(
    "discover", "ASSISTANTS_DISCOVER", "ids", kind="switch",
    help="List every assistant instead of fetching given IDs.",
    doc="`1` to use discover mode when neither a run nor its source's table names where the IDs come from "
        "(`true`, `yes`, `on` too; `0`, `false`, `no`, `off` or empty: off; anything else is refused).",
    deploy="runs")
SOURCES_FILE = Setting(
    "sources_file", "ASSISTANTS_SOURCES_FILE", "ids", kind="path",
    help="The sources file (TOML) naming several API sources of one warehouse.",
    doc="The sources file (TOML): several named API sources in one warehouse (see \"Many sources\"). Without it, "
        "one source, `default`, configured by these variables.", deploy="runs")

# --- Partitions and the schedule (pipelines/) ------------------------------------------------------------------

START_DATE = Setting(
    "start_date", "ASSISTANTS_START_DATE", "schedule", kind="date",
    help="The first daily partition (YYYY-MM-DD, today or earlier).",
    doc="First daily partition (see \"Which partitions exist\"): `YYYY-MM-DD`, today or earlier.",
    doc_default="the first stored snapshot, or yesterday if earlier; `2023-11-06` in the CLI", deploy="runs")
SCHEDULE_CRON = Setting(
    "schedule_cron", "ASSISTANTS_SCHEDULE_CRON", "schedule", default="0 2 * * *", kind="cron",
    help="When the nightly schedule ticks (five cron fields).", deploy="services")
SCHEDULE_TIMEZONE = Setting(
    "schedule_timezone", "ASSISTANTS_SCHEDULE_TIMEZONE", "schedule", default="UTC", kind="time zone",
    help="The schedule's time zone (an IANA name).", deploy="services")

# --- The warehouse's writers and caches ------------------------------------------------------------------------

WRITER_WAIT = Setting(
    "writer_wait", "ASSISTANTS_WRITER_WAIT", "warehouse", default="60", kind="seconds",
    help="Seconds a run waits for another run of the same source to end before it gives up, having written "
         "nothing (exit status 75).",
    doc="Seconds a run waits for another run of the same source to end before it gives up, having written nothing, "
        "with one line naming that run and exit status 75 (`0`: give up at once). `--writer-wait` and the "
        "`warehouse` resource's `writer_wait` override it.")
DUCKDB_CACHE = Setting(
    "duckdb_cache", "ASSISTANTS_DUCKDB_CACHE", "warehouse", default="~/.cache/assistants-export", kind="path",
    help="Where the DuckDB file of an object-store warehouse is kept.",
    doc="Where the DuckDB file of an object-store warehouse is kept (a cache, one per bucket and prefix); a folder "
        "warehouse keeps it inside.")

# --- Dagster and the CLI ---------------------------------------------------------------------------------------

DAGSTER_HOME = Setting(
    "dagster_home", "DAGSTER_HOME", "dagster", kind="path",
    help="Dagster instance folder, holding its dagster.yaml; the CLI records its runs there when set.",
    doc="Dagster instance folder, holding its `dagster.yaml`; the CLI records its runs there when set. `make dev` "
        "sets it to the project root, the project's instance (see [Dagster](#dagster)).")
"""Dagster's own variable (not ours), read by the CLI too."""
DEBUG = Setting(
    "debug", "ASSISTANTS_DEBUG", "cli", kind="switch",
    help="1 prints the traceback of a failure no command foresaw (a bug) before its one error: line.",
    doc="`1` prints the traceback of a failure no command foresaw (a bug) before its one `error:` line.")

# --- The Docker deployment's pass-through variables (read by Dagster and the AWS SDK, not by us) ---------------

DAGSTER_PG = tuple(
    Setting(f"dagster_pg_{part.lower()}", f"DAGSTER_PG_{part}", "deployment", help=f"The instance database's {what}.",
            readme=False, deploy="instance")
    for part, what in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password"),
                       ("DB", "name")))
AWS = tuple(
    Setting(name.lower(), name, "deployment", help=what, readme=False, deploy="runs")
    for name, what in (("AWS_ACCESS_KEY_ID", "The object store's access key."),
                       ("AWS_SECRET_ACCESS_KEY", "The object store's secret key."),
                       ("AWS_REGION", "The object store's region."),
                       ("AWS_ENDPOINT_URL", "An S3-compatible server (MinIO, Ceph, R2...).")))

# --- The reliability tests' crash and pause points (connectors/core/failpoints.py) -----------------------------

FAILPOINTS = Setting(
    "failpoints", "ASSISTANTS_FAILPOINTS", "testing", kind="name[@N],...",
    help="Crash points: the process SIGKILLs itself the N-th time it reaches one.", readme=False)
PAUSEPOINTS = Setting(
    "pausepoints", "ASSISTANTS_PAUSEPOINTS", "testing", kind="name[@N],...",
    help="Pause points: the process waits at one until a file of ASSISTANTS_PAUSE_DIR lets it go.", readme=False)
PAUSE_DIR = Setting(
    "pause_dir", "ASSISTANTS_PAUSE_DIR", "testing", kind="path",
    help="The folder through which a test and a paused process talk.", readme=False)

# --- The gates (connectors/gates.py): settings without a variable ----------------------------------------------

MAX_FAILED_SHARE = Setting(
    "max_failed_share", None, "gates", default="0.1", kind="share",
    help="Largest share of the IDs answered that may end failed before the run is held back (the date's tables "
         "are then left as they were).", readme=False)
MASS_DELETION_THRESHOLD = Setting(
    "mass_deletion_threshold", None, "gates", default="0.2", kind="share",
    help="Largest share of the live assistants one snapshot may delete before the run is held back (the history "
         "step: before its replay stops).", readme=False)

# --- The registry ----------------------------------------------------------------------------------------------

SETTINGS: tuple[Setting, ...] = (
    API_KEY, BASE_URL, AUTH_STYLE, API_VERSION, ENTRA_CREDENTIAL, ENTRA_SCOPE, ORGANIZATION, PROJECT, WAREHOUSE,
    IDS_FILE, DISCOVER, SOURCES_FILE, START_DATE, SCHEDULE_CRON, SCHEDULE_TIMEZONE, WRITER_WAIT, DUCKDB_CACHE,
    DAGSTER_HOME, DEBUG, *DAGSTER_PG, *AWS, FAILPOINTS, PAUSEPOINTS, PAUSE_DIR, MAX_FAILED_SHARE,
    MASS_DELETION_THRESHOLD,
)
"""Every setting, in the README's order."""

BY_ENV: dict[str, Setting] = {s.env: s for s in SETTINGS if s.env is not None}
"""Every declared variable -> its setting."""
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def setting(env: str) -> Setting:
    """The setting of the variable ``env`` (a KeyError names an undeclared one)."""
    return BY_ENV[env]


def deployment_variables(*where: Deploy) -> list[str]:
    """The variables the Docker deployment handles ``where`` (:attr:`Setting.deploy`), the database's first."""
    chosen = [s for s in SETTINGS if s.env is not None and s.deploy in where]
    return [s.env for s in sorted(chosen, key=lambda s: s.deploy != "instance") if s.env is not None]


def compose_environment() -> list[str]:
    """The lines of ``deploy/docker-compose.yaml``'s run environment: each variable named, its value from
    ``deploy/.env`` (required ones refuse to start without it; the others may be empty)."""
    lines = []
    for s in SETTINGS:
        if s.env is None or s.deploy not in ("runs", "services"):
            continue
        if s.deploy_required is None:
            lines.append(f"{s.env}: ${{{s.env}:-}}")
        else:
            example = f"={s.deploy_required}" if s.deploy_required else ""
            lines.append(f"{s.env}: ${{{s.env}:?set {s.env}{example} in deploy/.env}}")
    return lines


def environment_table_markdown() -> str:
    """The README's section "Environment variables": a table of the variables it lists (:attr:`Setting.readme`)."""
    rows = ["### Environment variables", "", "| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.env}` | {s.readme_default()} | {s.doc or s.help} |" for s in SETTINGS if s.readme and s.env]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(environment_table_markdown(), end="")
