"""The API sources a warehouse archives: ``$ASSISTANTS_SOURCES_FILE``, or the one source the environment configures.

Without the file there is one source, named ``default``, configured wholly by the environment's variables
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``... and ``ASSISTANTS_IDS_FILE``/``ASSISTANTS_DISCOVER`` for the IDs), as
there always was. With it, the sources are the file's tables, in the file's order::

    [sources.default]                  # the warehouse root's own source (optional)
    discover = true

    [sources.eu]                       # stored under <warehouse>/sources/eu/
    base_url = "https://my-eu-resource.openai.azure.com"
    auth_style = "azure"
    api_key_env = "EU_OPENAI_API_KEY"  # the variable holding the key: never the key itself
    ids_file = "eu-ids.csv"            # relative to this file's folder

A source's keys are :data:`SOURCE_KEYS`; a key left out falls back to the environment's variable, exactly as
for the single source. The file is read with the standard library's TOML reader. Whatever is wrong with it (a
missing file, bad TOML, an unknown key, a bad name, a key that looks like it holds the API key) ends in one
line that names the file and the key or line to fix (:class:`~assistants_export.connectors.core.errors.ConfigError`).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE, SOURCES_FILE_ENV
from assistants_export.connectors.openai_assistants.config import AUTH_STYLES, ClientConfig
from assistants_export.connectors.openai_assistants.entra import CREDENTIALS
from assistants_export.connectors.snapshot import IdSource
from assistants_export.connectors.warehouse.location import file_kind
from assistants_export.connectors.warehouse.sources import check_source_name

IDS_FILE_ENV = registry.IDS_FILE.variable
DISCOVER_ENV = registry.DISCOVER.variable
MAX_SOURCES_FILE_BYTES = 1024 * 1024
"""A sources file holds a few tables; anything larger (or a device such as /dev/zero) is refused unread."""

CLIENT_KEYS = ("base_url", "auth_style", "api_key_env", "api_version", "organization", "project", "entra_credential",
               "entra_scope")
"""The keys of a source that go to its :class:`ClientConfig`."""
SOURCE_KEYS = (*CLIENT_KEYS, "ids_file", "discover")
"""Every key a ``[sources.<name>]`` table may hold."""

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_LIKE = re.compile(r"apikey|secret|token|password|bearer|credential")


@dataclass(frozen=True)
class SourceSpec:
    """One API source: its name, the settings its table gives (None: the environment's), and where it comes from."""

    name: str
    base_url: str | None = None
    auth_style: str | None = None
    api_key_env: str | None = None
    api_version: str | None = None
    organization: str | None = None
    project: str | None = None
    entra_credential: str | None = None
    """auth_style ``entra``: which azure-identity credential signs in (its name, never a secret)."""
    entra_scope: str | None = None
    ids_file: str | None = None
    """An absolute path (a relative one in the file is resolved against the file's folder)."""
    discover: bool | None = None
    file: str | None = None
    """The sources file that defines it; None for the environment's ``default`` source."""

    @property
    def origin(self) -> str:
        """Where its settings come from, for messages."""
        return f"[sources.{self.name}] of {self.file}" if self.file else "the environment"

    def client_settings(self) -> dict[str, Any]:
        """The client settings this source's table gives (unset ones left out)."""
        return {key: getattr(self, key) for key in CLIENT_KEYS if getattr(self, key) is not None}

    def client_config(self, defaults: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None,
                      environ: Mapping[str, str] | None = None) -> ClientConfig:
        """The source's client configuration: ``overrides`` over its own settings over ``defaults`` over the
        environment's variables (``None`` values ignored throughout). The key is read from the variable its
        ``api_key_env`` names (``OPENAI_API_KEY`` by default) unless ``overrides`` hold an ``api_key``."""
        values = {k: v for k, v in (defaults or {}).items() if v is not None}
        values.update(self.client_settings())
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        try:
            return ClientConfig.from_env(environ, **values)
        except ConfigError as exc:
            if self.file is None:
                raise
            raise ConfigError(f"source {self.name} ({self.file}): {exc}") from None

    def id_source(self, environ: Mapping[str, str] | None = None) -> IdSource | None:
        """Where this source's IDs come from: its table's ``ids_file`` or ``discover``, else
        ``$ASSISTANTS_IDS_FILE``, else ``$ASSISTANTS_DISCOVER``; None when nothing says."""
        env = os.environ if environ is None else environ
        discover = _switch(DISCOVER_ENV, env.get(DISCOVER_ENV, ""))
        if self.ids_file is not None:
            return IdSource(ids_file=self.ids_file)
        if self.discover:
            return IdSource(discover=True)
        if env.get(IDS_FILE_ENV):
            return IdSource(ids_file=env[IDS_FILE_ENV])
        if discover:
            return IdSource(discover=True)
        return None

    def no_ids_message(self, where: str) -> str:
        """Why a run of this source has no IDs, and what would give it some (``where``: the run's own settings)."""
        table = f"or ids_file or discover in {self.origin}, " if self.file else ""
        return f"no assistants to fetch: set {where}, {table}or ${IDS_FILE_ENV}, or ${DISCOVER_ENV}=1"


def _switch(variable: str, value: str) -> bool:
    """A variable that turns something on: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``/empty;
    anything else is a one-line ConfigError rather than a quiet "off"."""
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("", "0", "false", "no", "off"):
        return False
    shown = value if len(value) <= 40 and value.isprintable() else f"{value[:40]!r}..."
    raise ConfigError(f"{variable}={shown}: give 1 to turn it on, or 0 (or leave it unset)")


ENVIRONMENT_SOURCE = SourceSpec(DEFAULT_SOURCE)
"""The one source there is without a sources file."""


def sources_file(environ: Mapping[str, str] | None = None) -> str | None:
    """The sources file ``$ASSISTANTS_SOURCES_FILE`` names (an empty variable means not set)."""
    env = os.environ if environ is None else environ
    return env.get(SOURCES_FILE_ENV) or None


def configured_sources(environ: Mapping[str, str] | None = None) -> dict[str, SourceSpec]:
    """Every configured source by name, in the file's order; without a file, the environment's ``default``."""
    path = sources_file(environ)
    if path is None:
        return {DEFAULT_SOURCE: ENVIRONMENT_SOURCE}
    return load_sources(path)


def source_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """The configured sources' names (see :func:`configured_sources`)."""
    return list(configured_sources(environ))


def get_source(name: str, environ: Mapping[str, str] | None = None) -> SourceSpec:
    """The configured source ``name``; a ConfigError that lists the configured ones when there is none."""
    configured = configured_sources(environ)
    if name in configured:
        return configured[name]
    path = sources_file(environ)
    where = f"{path} ({SOURCES_FILE_ENV})" if path else f"the environment (no {SOURCES_FILE_ENV})"
    raise ConfigError(f"no source named {name!r}: {where} configures {', '.join(configured)}")


# --- Reading the file ---------------------------------------------------------------------------------------------


def load_sources(path: str) -> dict[str, SourceSpec]:
    """The sources of the TOML file at ``path``, checked; every problem is one ConfigError line naming the file."""
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):  # before opening: a FIFO would block, /dev/zero never end
            raise ConfigError(f"{SOURCES_FILE_ENV}={path}: cannot be read (it is {file_kind(mode)}): give the path "
                              "of a TOML file")
        with open(path, "rb") as stream:
            raw = stream.read(MAX_SOURCES_FILE_BYTES + 1)
        if len(raw) > MAX_SOURCES_FILE_BYTES:
            raise ConfigError(f"{SOURCES_FILE_ENV}={path}: larger than {MAX_SOURCES_FILE_BYTES:,} bytes; a sources "
                              "file is a short TOML file (is it the right one?)")
    except FileNotFoundError:
        raise ConfigError(f"{SOURCES_FILE_ENV}={path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{SOURCES_FILE_ENV}={path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (a TOML file is UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _Reader(path, text).sources(document)


class _Reader:
    """Checks a parsed sources file, naming the file, the table and (when it can be found) the line."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.folder = os.path.dirname(os.path.abspath(path))
        self.lines = text.splitlines()

    def sources(self, document: dict[str, Any]) -> dict[str, SourceSpec]:
        for key in document:
            if key != "sources":
                self.fail(f"{key} is not a setting of a sources file: it holds [sources.<name>] tables only",
                          self.line_of("", key))
        tables = document.get("sources")
        if not isinstance(tables, dict) or not tables:
            self.fail("no source: add a [sources.<name>] table for each source, e.g. [sources.default]", None)
        return {name: self.source(name, table) for name, table in tables.items()}

    def source(self, name: str, table: object) -> SourceSpec:
        where = self.line_of(f"sources.{name}")
        try:
            check_source_name(name)
        except ConfigError as exc:
            self.fail(f"[sources.{name}]: {exc}", where)
        if not isinstance(table, dict):
            self.fail(f"sources.{name} must be a table of settings ([sources.{name}] with key = value lines)",
                      self.line_of("sources", name) or where)
        values: dict[str, Any] = {}
        for key, value in table.items():
            line = self.line_of(f"sources.{name}", key)
            self.check_not_a_secret(name, key, line)
            if key not in SOURCE_KEYS:
                self.fail(f"[sources.{name}] {key} is not a setting of a source (the settings: "
                          f"{', '.join(SOURCE_KEYS)})", line)
            values[key] = self.value(name, key, value, line)
        if "ids_file" in values and "discover" in values:
            self.fail(f"[sources.{name}] give ids_file or discover, not both",
                      self.line_of(f"sources.{name}", "discover"))
        if "ids_file" in values:
            values["ids_file"] = os.path.join(self.folder, os.path.expanduser(values["ids_file"]))
        return SourceSpec(name=name, file=self.path, **values)

    def value(self, name: str, key: str, value: object, line: int | None) -> Any:
        setting = f"[sources.{name}] {key}"
        if key == "discover":
            if not isinstance(value, bool):
                self.fail(f"{setting} must be true or false", line)
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{setting} must be a non-empty string in quotes", line)
        if key == "auth_style" and value not in AUTH_STYLES:
            self.fail(f"{setting} must be one of {', '.join(AUTH_STYLES)}, got {value!r}", line)
        if key == "entra_credential" and value not in CREDENTIALS:
            self.fail(f"{setting} must be one of {', '.join(CREDENTIALS)}, got {value[:40]!r}", line)
        if key == "base_url":
            self.check_url(setting, value, line)
        if key == "api_key_env" and not _VARIABLE.fullmatch(value):
            # Never echo the value: it may be the key itself, pasted in the wrong place.
            self.fail(f"{setting} must be the name of the environment variable that holds the key (letters, "
                      "digits and _), not the key itself", line)
        return value

    def check_url(self, setting: str, url: str, line: int | None) -> None:
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            self.fail(f"{setting} {url!r} has an invalid port", line)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            self.fail(f"{setting} {url!r} is not an http(s) URL like https://api.openai.com/v1", line)

    def check_not_a_secret(self, name: str, key: str, line: int | None) -> None:
        squeezed = re.sub(r"[^a-z]", "", key.lower())
        if key not in ("api_key_env", "entra_credential") and (_KEY_LIKE.search(squeezed) or squeezed == "key"):
            variable = re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_" + registry.API_KEY.variable
            self.fail(f"[sources.{name}] {key}: the API key is never written in the sources file; export it in a "
                      f"variable and name that variable: api_key_env = \"{variable}\"", line)

    def line_of(self, table: str, key: str | None = None) -> int | None:
        """The line of the header ``[table]`` (``key`` None) or of ``key = ...`` inside it (``""``: the top level);
        None when the file writes it another way (an inline table, a dotted key)."""
        current = ""
        for number, line in enumerate(self.lines, start=1):
            header = re.match(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
            if header:
                current = re.sub(r"[\s\"']", "", header.group(1))
                if key is None and current == table:
                    return number
            elif key is not None and current == table and re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*[=.]", line):
                return number
        return None

    def fail(self, message: str, line: int | None) -> NoReturn:
        where = f"{self.path}:{line}" if line else self.path
        raise ConfigError(f"{where}: {message}")

