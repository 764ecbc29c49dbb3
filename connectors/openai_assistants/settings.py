"""Every tuning knob and every limit of the source, in one place; the Assistant's own limits (field lengths,
counts, ranges) are defined with its shape in :mod:`assistants_export.connectors.core.assistant_model`.

Defaults follow the official OpenAI SDK (timeouts, retry delays). Change behaviour through
:class:`assistants_export.connectors.openai_assistants.config.ClientConfig`, not by editing
these values; they are the defaults that configuration starts from.
"""

from __future__ import annotations

from typing import Final

from assistants_export.connectors.core import settings_registry as registry

# --- Endpoint -------------------------------------------------------------

DEFAULT_BASE_URL = registry.BASE_URL.fallback
"""The hosted API (sunset 2026-08-26); Azure OpenAI and compatible servers take a base URL."""

DEFAULT_API_KEY_ENV = registry.API_KEY.variable
"""Environment variable the API key is read from. Its *name* is logged, never its value."""

DEFAULT_BASE_URL_ENV = registry.BASE_URL.variable

ASSISTANTS_BETA_HEADER = ("OpenAI-Beta", "assistants=v2")
"""Required by every Assistants endpoint; without it the API answers 400."""

DEFAULT_AUTH_STYLE: Final[registry.AuthStyle] = registry.DEFAULT_AUTH_STYLE
"""``Authorization: Bearer``; ``azure`` sends the key in ``api-key`` instead."""

AZURE_PATH_PREFIX = "/openai"
DEFAULT_AZURE_API_VERSION = "2024-05-01-preview"
DEFAULT_FOUNDRY_API_VERSION = "v1"
"""Azure AI Foundry Agent Service's stable ``api-version`` (auth_style ``entra``)."""
DEFAULT_ENTRA_SCOPE: Final = registry.ENTRA_SCOPE.fallback
"""The OAuth2 scope of Foundry Agent Service's Entra ID tokens (its Swagger's ``OAuth2Auth`` scope)."""
DEFAULT_ENTRA_CREDENTIAL: Final = registry.ENTRA_CREDENTIAL.fallback
"""``DefaultAzureCredential``: environment, workload identity, managed identity, Azure CLI..."""
ENTRA_REFRESH_MARGIN: Final = 300.0
"""Seconds before its expiry a token is replaced (half its lifetime for a shorter-lived one)."""

NOT_FOUND_PATTERN = r"(?i)no assistant found"
"""A 404 whose error message matches this is a missing assistant; any other 404 means the endpoint is gone."""

# --- Timeouts (seconds) ---------------------------------------------------

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
"""Seconds one read may wait for bytes: a server that sends a byte now and then never trips it."""
REQUEST_DEADLINE = 120.0
"""Seconds one request may take as a whole, from sending it to the last byte of the body: what a body trickled
a byte at a time cannot outlive. Ample for the largest body (8 MiB) over a slow link."""
PREFLIGHT_CONNECT_BUDGET = 3.0
"""Seconds the preflight keeps trying to reach a host that refuses connections or never completes one before
the run stops, naming the host and port: a server that is not there fails in seconds, not after every ID's
retry budget. A server that answers, even with errors, gets the usual retries. Also the preflight's connect
timeout when ``connect_timeout`` is longer."""
WRITE_TIMEOUT = 60.0
"""Sending a request (a GET without a body: never the bottleneck). Not configurable."""
POOL_TIMEOUT = 60.0
"""Waiting for a free connection of the pool. The pool holds ``concurrency`` connections, as many as requests
in flight, so this wait is short; not configurable."""

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""A body larger than this is refused: the largest valid assistant (256,000-character
instructions, 128 tools) is far below it, so anything bigger is a broken or hostile server."""

DEFAULT_PREFLIGHT = True
"""Probe ``GET /assistants?limit=1`` before fetching IDs, so a bad key or a gone endpoint costs one request."""

# --- Concurrency ----------------------------------------------------------

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 256

# --- Retry (modelled on openai-python's _base_client) ---------------------

DEFAULT_MAX_ATTEMPTS = 6
"""Attempts per request, the first included."""

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
"""Exponential backoff starts here and is capped here; jitter takes up to 25 % off."""

RETRY_AFTER_CAP = 60.0
"""A server-sent Retry-After above this is not obeyed; exponential backoff is used instead."""

DEFAULT_ID_DEADLINE = 300.0
"""Seconds one ID may spend across all its attempts before it ends ``failed``."""

DEFAULT_RUN_DEADLINE: float | None = 6 * 60 * 60.0
"""Seconds the whole fetch (preflight, every ID, every retry) may take: 6 hours. Far above a night's fetch
(20,000 assistants take under a minute against the sandbox; 200,000 answered in 0.3 s each, 8 at a time, about two
hours) and well inside the day before the next night's run. Past it the run stops with
:class:`~assistants_export.connectors.core.errors.DeadlineExceededError` and nothing is written for the date, so a slow
or stuck endpoint cannot hold a nightly job forever. None (``--run-deadline none``, Dagster
``run_deadline: null``) means no limit, for an account that needs longer at a low ``requests_per_minute``."""

RETRYABLE_STATUS = frozenset({408, 409, 429})
"""Plus every status >= 500."""

# --- Listing --------------------------------------------------------------

LIST_PAGE_LIMIT = 100
"""The list endpoint's maximum page size."""

# --- Assistant IDs --------------------------------------------------------

MAX_ID_LENGTH = 128

MAX_IDS_FILE_LINE = 1024 * 1024
"""Characters a line of an IDs file (text or CSV), or one element of its JSON array, may hold. An ID is at most
128 characters; a longer line is a wrong file (a dump without newlines, say), refused naming its line number, so
the file is read in bounded memory whatever its size or shape. A JSON array may be one long line: only each
element is bounded."""

# --- AssistantObject limits ------------------------------------------------
# The Assistant's own limits (lengths, counts, ranges, the tool and response-format types) are defined with its
# shape in the one model, connectors/core/assistant_model.py; import them from there.

# --- Validation -----------------------------------------------------------

MAX_JSON_DEPTH = 256
"""Deepest nesting of objects and arrays accepted in a body. The schema sets no limit, but
hashing, flattening and the history walk JSON recursively, so a hostile body nested
thousands deep would crash a whole step; such a body is quarantined instead. 256 leaves
room for function parameters nested over a hundred levels (two JSON levels per schema level)."""

MAX_VALIDATION_PROBLEMS = 20
"""Problems listed per invalid assistant; the last line then counts the rest, so a
hostile body cannot blow up the quarantine reason."""
