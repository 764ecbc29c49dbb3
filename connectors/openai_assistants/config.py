"""Typed, validated configuration of the API client.

One frozen dataclass holds everything that decides where requests go, how they
authenticate and how hard the client tries. It is validated when built, so a bad
setting fails before the first request with a message naming the setting.

Each setting is declared once, here: its default (a value from
:mod:`assistants_export.connectors.openai_assistants.settings`) and its one-line help. The Dagster
resource (:mod:`assistants_export.pipelines.resources`) and the CLI options
(:mod:`assistants_export.pipelines.cli.snapshot`)
take both from :func:`default` and :func:`describe` (:data:`HELP`), and
``tests/connectors/test_config_single_source.py`` fails if a copy drifts.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.settings_registry import AUTH_STYLES as AUTH_STYLES
from assistants_export.connectors.core.settings_registry import AuthStyle as AuthStyle

from . import settings


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or f-strings.

    The API key travels inside one of these from the environment to the one
    place that builds the request header, so an accidental log of a config
    object, a traceback's locals or Dagster's resource repr cannot leak it.
    """

    __slots__ = ("_value", "origin")

    def __init__(self, value: str, origin: str | None = None) -> None:
        self._value = value
        self.origin = origin
        """Where the key came from, for messages, when not from the variable ``api_key_env`` names (such as
        ``the api resource's api_key``)."""

    def reveal(self) -> str:
        """The secret itself; call only where a header is built."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


ENVIRONMENT: tuple[registry.Setting, ...] = (
    registry.BASE_URL, registry.ORGANIZATION, registry.PROJECT, registry.API_VERSION, registry.AUTH_STYLE,
    registry.ENTRA_CREDENTIAL, registry.ENTRA_SCOPE)
"""The client settings a variable sets (besides the key's): read by :meth:`ClientConfig.from_env`, and by the
``api`` resource and the CLI for the fields left unset."""


@dataclass(frozen=True)
class ClientConfig:
    """Everything the client needs; see the README's configuration reference and :data:`HELP`."""

    api_key: Secret
    base_url: str = settings.DEFAULT_BASE_URL
    api_key_env: str = settings.DEFAULT_API_KEY_ENV
    auth_style: AuthStyle = settings.DEFAULT_AUTH_STYLE
    api_version: str | None = None
    organization: str | None = None
    project: str | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    concurrency: int = settings.DEFAULT_CONCURRENCY
    requests_per_minute: float | None = None
    connect_timeout: float = settings.CONNECT_TIMEOUT
    read_timeout: float = settings.READ_TIMEOUT
    request_deadline: float = settings.REQUEST_DEADLINE
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS
    id_deadline: float = settings.DEFAULT_ID_DEADLINE
    run_deadline: float | None = settings.DEFAULT_RUN_DEADLINE
    """See :mod:`assistants_export.connectors.snapshot`."""
    retry_after_cap: float = settings.RETRY_AFTER_CAP
    initial_retry_delay: float = settings.INITIAL_RETRY_DELAY
    max_retry_delay: float = settings.MAX_RETRY_DELAY
    max_response_bytes: int = settings.MAX_RESPONSE_BYTES
    not_found_pattern: str = settings.NOT_FOUND_PATTERN
    preflight: bool = settings.DEFAULT_PREFLIGHT
    """A bad key or a gone endpoint then stops the run after one request instead of thousands."""
    entra_credential: str = settings.DEFAULT_ENTRA_CREDENTIAL
    """auth_style ``entra``: which ``azure-identity`` credential signs in (:mod:`.entra`)."""
    entra_scope: str = settings.DEFAULT_ENTRA_SCOPE

    def __post_init__(self) -> None:
        if self.run_deadline == math.inf:  # "none" where None already means "not given, take the default"
            object.__setattr__(self, "run_deadline", None)
        _check_base_url(self.base_url)
        if self.auth_style == "entra":
            self._check_entra()
        elif not isinstance(self.api_key, Secret) or not self.api_key:
            raise ConfigError(
                f"{self.api_key_env} is not set: export the API key in that variable "
                "(it is never printed or stored)"
            )
        else:
            _check_key(self.api_key.reveal(), self.api_key.origin or f"${self.api_key_env}")
        if self.auth_style not in AUTH_STYLES:
            raise ConfigError(f"auth_style must be one of {', '.join(AUTH_STYLES)}, got {self.auth_style!r}")
        if self.auth_style == "azure" and not self.api_version:
            raise ConfigError("auth_style 'azure' needs api_version (the api-version query parameter)")
        _check_int("concurrency", self.concurrency, 1, settings.MAX_CONCURRENCY)
        _check_int("max_attempts", self.max_attempts, 1, 100)
        _check_int("max_response_bytes", self.max_response_bytes, 1024, 1 << 31)
        for name in ("connect_timeout", "read_timeout", "request_deadline", "id_deadline", "retry_after_cap",
                     "initial_retry_delay", "max_retry_delay"):
            _check_positive(name, getattr(self, name))
        for name in ("requests_per_minute", "run_deadline"):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))
        try:
            re.compile(self.not_found_pattern)
        except re.error as exc:
            raise ConfigError(f"not_found_pattern is not a valid regular expression: {exc}") from None
        for name, value in self.extra_headers.items():
            if not name or any(c in name for c in ":\r\n ") or not name.isascii() or not _header_safe(value):
                raise ConfigError(f"extra header {name!r} is not a valid HTTP header name/value (its value must be "
                                  "printable ASCII, without control characters)")

    def _check_entra(self) -> None:
        from .entra import CREDENTIALS  # no azure-identity import: only the names

        if not self.api_version:
            raise ConfigError("auth_style 'entra' needs api_version (Foundry's api-version query parameter, "
                              f"{settings.DEFAULT_FOUNDRY_API_VERSION!r})")
        if self.entra_credential not in CREDENTIALS:
            raise ConfigError(f"entra_credential must be one of {', '.join(CREDENTIALS)}, "
                              f"got {self.entra_credential!r}")
        if not isinstance(self.entra_scope, str) or not self.entra_scope.strip() or not _header_safe(self.entra_scope):
            raise ConfigError(f"entra_scope must be an OAuth2 scope such as {settings.DEFAULT_ENTRA_SCOPE}, "
                              f"got {self.entra_scope!r}")

    @property
    def dialect(self) -> str:
        """Which schema the bodies are held to: ``foundry`` (Foundry's Agent) for auth_style ``entra``, else
        ``openai``."""
        return "foundry" if self.auth_style == "entra" else "openai"

    @property
    def api_root(self) -> str:
        """The URL the ``/assistants`` paths are appended to (Azure adds ``/openai``; for ``entra`` it is the
        Foundry project endpoint as given, ``https://<aiservices-id>.services.ai.azure.com/api/projects/<project>``)."""
        root = self.base_url.rstrip("/")
        if self.auth_style == "azure" and not root.endswith(settings.AZURE_PATH_PREFIX):
            root += settings.AZURE_PATH_PREFIX
        return root

    def secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere (for :func:`errors.redact`): the key, and the value of any
        extra header named like a credential (``Authorization``, ``X-Api-Key``, ``Cookie``...)."""
        extra = (value for name, value in self.extra_headers.items() if _CREDENTIAL_HEADER.search(name))
        key = (self.api_key.reveal(),) if isinstance(self.api_key, Secret) and self.api_key else ()
        return (*key, *extra)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> ClientConfig:
        """Build from the documented environment variables, then apply ``overrides``.

        Variables: the key's (``OPENAI_API_KEY``, or the one named by ``api_key_env``) and every other
        variable of :data:`ENVIRONMENT` (the settings registry's client group), each else its default. ``None``
        overrides are ignored so CLI flags that were not given fall back to the environment.
        """
        env = os.environ if environ is None else environ
        key_env = str(overrides.pop("api_key_env", None) or settings.DEFAULT_API_KEY_ENV)
        values: dict[str, object] = {
            "api_key": Secret(env.get(key_env, "")),
            "api_key_env": key_env,
            **{setting.name: setting.value(env) for setting in ENVIRONMENT},
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["auth_style"] == "azure" and not values["api_version"]:
            values["api_version"] = settings.DEFAULT_AZURE_API_VERSION
        if values["auth_style"] == "entra" and not values["api_version"]:
            values["api_version"] = settings.DEFAULT_FOUNDRY_API_VERSION
        return cls(**values)  # type: ignore[arg-type]


HELP: Mapping[str, str] = {
    "api_key": "The API key.",
    **{setting.name: setting.help for setting in (registry.API_KEY, *ENVIRONMENT)},
    "extra_headers": "More headers for every request.",
    "concurrency": "Requests in flight at most.",
    "requests_per_minute": "Cap on request starts per minute; none by default.",
    "connect_timeout": "Seconds to connect.",
    "read_timeout": "Seconds to wait for an answer.",
    "request_deadline": "Seconds one request may take in all, headers and whole body (a body trickled a byte at a "
                        "time cannot outlive it); counts as a timeout (retried).",
    "max_attempts": "Attempts per request.",
    "id_deadline": "Seconds per ID, retries included; no attempt outlives it.",
    "run_deadline": "Seconds the whole fetch may take (6 hours by default; none for no limit). Past it the run "
                    "fails and nothing is written for the date.",
    "retry_after_cap": "Longest server-requested wait that is obeyed.",
    "initial_retry_delay": "First backoff delay in seconds (doubles per retry).",
    "max_retry_delay": "Longest backoff delay.",
    "max_response_bytes": "Largest body accepted.",
    "not_found_pattern": "Regex a 404 message must match to mean 'assistant not found'.",
    "preflight": "Probe GET /assistants?limit=1 before fetching IDs.",
}
"""The one-line help of each :class:`ClientConfig` setting, shared by the resource and the CLI (the settings
registry's for those a variable sets)."""

_FIELDS = {f.name: f for f in fields(ClientConfig)}


def default(name: str) -> Any:
    """:class:`ClientConfig`'s default for the setting ``name`` (a fresh copy of a mutable one)."""
    f = _FIELDS[name]
    if f.default_factory is not MISSING:
        return f.default_factory()
    if f.default is MISSING:
        raise KeyError(f"{name} has no default")
    return f.default


def describe(name: str) -> str:
    """The one-line help of the setting ``name``, for the resource's descriptions and the CLI's help."""
    return HELP[name]


def _check_base_url(url: str) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"base URL {url!r} is not an http(s) URL: set {registry.BASE_URL.variable} or --base-url "
            "to something like https://api.openai.com/v1"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"base URL {url!r} must not carry a query or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"base URL {url!r} has an invalid port") from None


_CREDENTIAL_HEADER = re.compile(r"(?i)auth|key|token|secret|cookie|passw|credential|signature")


def _header_safe(value: str) -> bool:
    """Whether ``value`` can go in an HTTP header as it is: printable ASCII and tabs, no control characters."""
    return value.isascii() and all(c == "\t" or " " <= c < "\x7f" for c in value)


def _check_key(key: str, where: str) -> None:
    """Refuse a key that cannot be sent as it is, in one line that says what is wrong and never shows it.

    HTTP libraries refuse such a header and quote it in their error (``b'Bearer sk-...\\n'``), in forms no
    redaction should have to guess; a key is never meant to hold any of these, so it is refused when read.
    """
    fix = "set it to the key alone (the key is never shown)"
    if key[-1:] in ("\n", "\r"):
        raise ConfigError(f"{where} ends in a newline: {fix}; a copy-paste or `echo` often adds one")
    if key[:1].isspace():
        raise ConfigError(f"{where} starts with whitespace: {fix}")
    if key[-1:].isspace():
        raise ConfigError(f"{where} ends with whitespace: {fix}")
    for position, char in enumerate(key, 1):
        if not char.isascii():
            raise ConfigError(f"{where} holds a non-ASCII character (U+{ord(char):04X}, character {position} of "
                              f"{len(key)}): API keys are ASCII; look for a typographic quote or a stray pasted "
                              f"character, and {fix}")
        if not " " <= char < "\x7f":
            raise ConfigError(f"{where} holds a control character (U+{ord(char):04X}, character {position} of "
                              f"{len(key)}): {fix}")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")
