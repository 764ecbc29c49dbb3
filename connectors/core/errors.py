"""The connector's exceptions, in one tree.

    ConnectorError                  anything this package raises on purpose
    ├── ConfigError                 a setting is missing or invalid; raised before any request
    ├── InputError                  the ID list cannot be read (missing file, CSV without the column...)
    ├── WarehouseLockedError        another process holds assistants.duckdb; Parquet is written, DuckDB waits
    ├── WarehouseWriteError         the warehouse folder cannot be written (read-only, full, no permission)
    └── RunAbortedError             the whole run must stop; retrying other IDs cannot help
        ├── AuthenticationError     401/403: the key is wrong, revoked or lacks access
        ├── EndpointGoneError       the base URL does not serve the Assistants API (any 404 that is
        │                           not "No assistant found", 410, HTML or non-API answers)
        ├── EndpointUnreachableError the listing (preflight or a discover page) got no usable answer
        │                           after every retry
        ├── PaginationError         the list endpoint's cursor did not advance
        ├── DeadlineExceededError   the whole-run deadline passed
        ├── MassDeletionError       the history step would delete more than mass_deletion_threshold of
        │                           the live assistants (raised by connectors.history.engine)
        └── HeldBackError           a blocking gate (empty, failed share, mass deletion) kept the
                                    run's answers out of the date's tables; they wait under held/

Every class in the tree is user-facing: its message is the one line the CLI prints
and Dagster shows. Internal signals, never shown to the user and not part of the tree:

    ResponseTooLarge                a body exceeded max_response_bytes while it was read; the client's
                                    attempt loop turns it into a give_up verdict (the ID ends failed)

Retrying is not driven by exceptions: :mod:`assistants_export.connectors.openai_assistants.verdicts` turns each answer
(or failed attempt) into a verdict, and the client's attempt loop acts on it.

A single ID's trouble (not found, invalid body, retries exhausted) is *not* an
exception: it becomes a :class:`~assistants_export.connectors.openai_assistants.results.FetchResult`
with its outcome, so one bad ID never stops the others.

Every message is one line that says what to fix. None contains the API key:
messages that quote a server are passed through :func:`redact` first.
"""

from __future__ import annotations

from collections.abc import Iterable


class ConnectorError(Exception):
    """Base class. ``str(error)`` is the one-line message shown to the user."""


class ConfigError(ConnectorError):
    """A configuration value is missing or invalid."""


class InputError(ConnectorError):
    """The assistant IDs could not be read from the given source."""


class WarehouseLockedError(ConnectorError):
    """Another process holds the DuckDB file; the Parquet partitions are stored and load on the next run."""


class WarehouseWriteError(ConnectorError):
    """The warehouse folder refused a write: read-only, full, or not ours to write."""


class WarehouseUnreachableError(ConnectorError):
    """The object store holding the warehouse did not answer, or refused: its bucket, endpoint, credentials or
    permissions need fixing. Nothing was changed."""


class RunAbortedError(ConnectorError):
    """The run stopped as a whole; nothing was written for the date."""


class AuthenticationError(RunAbortedError):
    """The server refused the key (401) or its permissions (403)."""


class EndpointGoneError(RunAbortedError):
    """The base URL answers, but not as an Assistants API would."""


class EndpointUnreachableError(RunAbortedError):
    """No usable answer from the list endpoint (the preflight or a discover page) after every retry."""


class PaginationError(RunAbortedError):
    """The list endpoint returned ``has_more`` without moving its cursor forward."""


class DeadlineExceededError(RunAbortedError):
    """The whole-run deadline passed before every ID was fetched."""


class MassDeletionError(RunAbortedError):
    """One snapshot would delete more than the allowed share of the live assistants."""


class HeldBackError(RunAbortedError):
    """A blocking gate held the run back: the date's tables are unchanged, the answers kept aside."""

    def __init__(self, message: str, held_dir: str | None = None) -> None:
        super().__init__(message)
        self.held_dir = held_dir


class ResponseTooLarge(Exception):
    """Internal signal: a body exceeded ``max_response_bytes`` while it was read.

    Raised inside the client's request and caught by its attempt loop, which turns it
    into a ``give_up`` verdict (:func:`~assistants_export.connectors.openai_assistants.verdicts.judge_failure`):
    the ID ends ``failed`` with ``error_type`` ``response_too_large``, never retried. Not a
    :class:`ConnectorError`, so it can never be mistaken for a whole-run error.
    """


REDACTED = "[REDACTED]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every secret (and its ``Bearer`` form) replaced.

    Servers sometimes echo credentials in error bodies; everything a server
    says passes through here before it reaches a log, a table or an exception.
    Secrets shorter than 4 characters are ignored: replacing them would mangle
    ordinary text without protecting anything.
    """
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    return text
