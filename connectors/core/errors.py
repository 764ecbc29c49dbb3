"""The connector's exceptions, in one tree.

    ConnectorError                  anything this package raises on purpose
    ├── ConfigError                 a setting is missing or invalid; raised before any request
    ├── InputError                  the ID list cannot be read (missing file, CSV without the column...)
    ├── WarehouseLockedError        another process holds assistants.duckdb; Parquet is written, DuckDB waits
    ├── WarehouseWriteError         the warehouse folder cannot be written (read-only, full, no permission)
    ├── SourceBusyError             another run holds the source's writer lock; this run wrote nothing
    └── RunAbortedError             the whole run must stop; retrying other IDs cannot help
        ├── AuthenticationError     401/403: the key is wrong, revoked or lacks access
        ├── EndpointGoneError       the base URL does not serve the Assistants API (any 404 that is
        │                           not "No assistant found", 410, HTML or non-API answers)
        ├── EndpointUnreachableError the listing (preflight or a discover page) got no usable answer
        │                           after every retry
        ├── PaginationError         the list endpoint's listing would not end (a cursor that stays or
        │                           comes back, an assistant listed again) or cannot be trusted
        ├── DeadlineExceededError   the whole-run deadline passed
        ├── MassDeletionError       the history step would delete more than mass_deletion_threshold of
        │                           the live assistants (raised by connectors.history.engine)
        └── HeldBackError           a blocking gate (empty, failed share, mass deletion) kept the
                                    run's answers out of the date's tables; they wait under held/

Every class in the tree is user-facing: its message is the one line the CLI prints
and Dagster shows. Internal signals, never shown to the user and not part of the tree:

    UnreadableResponse              a body the client refuses to read further; the client's attempt loop
    ├── ResponseTooLarge            turns it into a give_up verdict (the ID ends failed): over
    │                               max_response_bytes, on the wire or decoded,
    └── UndecodableResponse         or in content codings it does not undo, or corrupt
    RequestTimedOut                 a request outlived its wall-clock deadline; judged as a timeout

Retrying is not driven by exceptions: :mod:`assistants_export.connectors.openai_assistants.verdicts` turns each answer
(or failed attempt) into a verdict, and the client's attempt loop acts on it.

A single ID's trouble (not found, invalid body, retries exhausted) is *not* an
exception: it becomes a :class:`~assistants_export.connectors.openai_assistants.results.FetchResult`
with its outcome, so one bad ID never stops the others.

Every message is one line that says what to fix. None contains the API key:
messages that quote a server are passed through :func:`redact` first.
"""

from __future__ import annotations

import base64
import functools
import re
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


class SourceBusyError(ConnectorError):
    """Another run is writing the same source (it holds the writer lock) and did not end within the wait; this
    run wrote nothing. The CLI exits 75 (EX_TEMPFAIL): running it again later is the remedy."""


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
    """The list endpoint's pages cannot be followed to an end: ``has_more`` with a cursor that stays or comes back
    or with no assistants, an assistant listed again, or a page that means two things to two parsers."""


class DeadlineExceededError(RunAbortedError):
    """The whole-run deadline passed before every ID was fetched."""


class MassDeletionError(RunAbortedError):
    """One snapshot would delete more than the allowed share of the live assistants."""


class HeldBackError(RunAbortedError):
    """A blocking gate held the run back: the date's tables are unchanged, the answers kept aside."""

    def __init__(self, message: str, held_dir: str | None = None) -> None:
        super().__init__(message)
        self.held_dir = held_dir


class RequestTimedOut(Exception):
    """Internal signal: a request outlived its wall-clock deadline (``request_deadline``, or what was left of the
    ID's ``id_deadline``), headers and body included. Judged as a timeout: retried while attempts and the ID's
    time last (:func:`~assistants_export.connectors.openai_assistants.verdicts.judge_failure`)."""


class UnreadableResponse(Exception):
    """Internal signal: a body the client refuses to read further (:class:`ResponseTooLarge`,
    :class:`UndecodableResponse`); ``error_type`` says why, for ``fetch_errors``.

    Raised inside the client's request and caught by its attempt loop, which turns it into a ``give_up`` verdict
    (:func:`~assistants_export.connectors.openai_assistants.verdicts.judge_failure`): the ID ends ``failed``, never
    retried (a server that sent it once sends it again). Not a :class:`ConnectorError`, so it can never be mistaken for
    a whole-run error.
    """

    error_type = "unreadable_response"


class ResponseTooLarge(UnreadableResponse):
    """Internal signal: a body exceeded ``max_response_bytes`` while it was read, on the wire or decoded
    (``error_type`` ``response_too_large``)."""

    error_type = "response_too_large"


class UndecodableResponse(UnreadableResponse):
    """Internal signal: a body in content codings the client does not undo (``unsupported_encoding``), or whose
    compressed data is corrupt (``undecodable_body``)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


REDACTED = "[REDACTED]"

MIN_SECRET_LENGTH = 4
"""Secrets shorter than this are ignored: replacing them would mangle ordinary text without protecting anything."""

# How one character may come back disguised: JSON and JavaScript \uXXXX (and \xXX in a Python repr), the
# backslash of an escaped "/" "\" '"' "'" (JSON's \/, a repr's \\), percent-encoding (once or twice over: %2573),
# HTML numeric entities. A run of backslashes stands for one: JSON inside JSON doubles them.
_DISGUISES = ("u", "x", "pct", "dec", "hex", "char")


def _escapes(codes: Iterable[int]) -> re.Pattern[str]:
    """A pattern of the disguises of the characters ``codes`` only (ordinary escapes such as ``\\n``, ``\\"`` or
    ``\\u00e9`` in a body are no secret's characters, and are passed over at C speed)."""
    codes = sorted(set(codes))

    def among(width: int, below: int) -> str:
        return "|".join(_hex_digits(code, width) for code in codes if code < below) or "(?!)"

    chars = "".join(re.escape(chr(code)) for code in codes if chr(code) in "/\\\"'")
    # Every branch starts with a literal character, so the engine skips to the next "\", "%" or "&" at C speed
    # instead of trying each branch at every position.
    return re.compile(
        r"\\\\*u(?P<u>" + among(4, 0x10000) + ")"
        r"|\\\\*x(?P<x>" + among(2, 0x100) + ")"
        r"|%(?:25)*(?P<pct>" + among(2, 0x80) + ")"
        r"|&#0*(?P<dec>" + ("|".join(str(code) for code in codes) or "(?!)") + ");"
        r"|&#[xX]0*(?P<hex>" + among(1, 0x110000) + ");"
        + (r"|\\\\*(?P<char>[" + chars + "])" if chars else "")
    )


def _undo_escape(match: re.Match[str]) -> str:
    """The character one disguise stands for."""
    for group, base in (("u", 16), ("x", 16), ("pct", 16), ("dec", 10), ("hex", 16)):
        if match[group] is not None:
            return chr(int(match[group], base))
    return match["char"]


def _hex_digits(code: int, width: int) -> str:
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{code:0{width}x}")


def _disguises_of(char: str) -> list[str]:
    """Regular expressions for ``char`` as it is and in each disguise :func:`_escapes` undoes; each starts with a
    literal character."""
    code = ord(char)
    ways = [re.escape(char), r"\\\\*u" + _hex_digits(code, 4) if code < 0x10000 else None,
            r"\\\\*x" + _hex_digits(code, 2) if code < 0x100 else None,
            "%(?:25)*" + _hex_digits(code, 2) if code < 0x80 else None,
            f"&#0*{code};", "&#[xX]0*" + _hex_digits(code, 1) + ";",
            r"\\\\*" + re.escape(char) if char in "/\\\"'" else None]
    return [way for way in ways if way]


def _disguised(form: str) -> str:
    """A regular expression for ``form`` with any of its characters disguised, as one branch per disguise of its
    first character: every branch then starts with a literal, and the engine skips at C speed to the places
    where one may begin."""
    rest = "".join("(?:" + "|".join(_disguises_of(char)) + ")" for char in form[1:])
    return "|".join(first + rest for first in _disguises_of(form[0]))


def _base64_runs(secret: str) -> set[str]:
    """The base64 characters that encode ``secret`` wherever it sits in the encoded bytes (three alignments),
    in both alphabets: what a ``Basic`` header, a token or a dump of the request shows."""
    data, runs = secret.encode("utf-8"), set()
    for lead in range(3):
        encoded = base64.b64encode(bytes(lead) + data).decode("ascii")
        # Characters wholly inside the secret's bits: not the ones shared with the lead bytes or what follows.
        run = encoded[-(-8 * lead // 6):8 * (lead + len(data)) // 6]
        if len(run) >= 8:
            runs |= {run, run.translate(str.maketrans("+/", "-_"))}
    return runs


class _Redactor:
    """The forms of some secrets, found in one pass with every disguise undone, replaced in the text itself."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms |= {secret, *_base64_runs(secret)}
        self.forms = sorted(forms, key=len, reverse=True)
        self.escapes = _escapes(ord(char) for form in self.forms for char in form)
        self.pattern = re.compile("|".join(map(_disguised, self.forms))) if self.forms else None

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        if not any(form in self._view(text) for form in self.forms):
            return text
        text = self.pattern.sub(REDACTED, text)
        view = self._view(text)
        if view is not text and any(form in view for form in self.forms):  # a disguise the pattern missed:
            return self.pattern.sub(REDACTED, view)  # keep the plain reading instead
        return text

    def _view(self, text: str) -> str:
        """What ``text`` reads as with every disguise of the secrets' characters undone (``text`` itself when it
        holds no escape at all: the common case then costs a few substring searches)."""
        if "\\" in text or "%" in text or "&#" in text:
            return self.escapes.sub(_undo_escape, text)
        return text


@functools.lru_cache(maxsize=32)
def _redactor(secrets: tuple[str, ...]) -> _Redactor:
    return _Redactor(secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every secret replaced by ``[REDACTED]``, in every form it may come back in.

    Servers sometimes echo credentials in error bodies, and libraries quote them in their errors; everything a
    server says passes through here before it reaches a log, a table or an exception. A secret is found as it
    is, and disguised one character at a time or throughout: JSON-escaped (``\\u0073``, ``\\/``, escapes
    doubled by JSON inside JSON), in a Python ``bytes`` repr, percent-encoded (twice over too), as HTML numeric
    entities, and base64-encoded (both alphabets, at any alignment, so inside ``Basic`` credentials too). The
    text is searched as it reads with every disguise undone, so redacting raw JSON redacts its decoded strings
    too. Secrets shorter than :data:`MIN_SECRET_LENGTH` characters are ignored.
    """
    return _redactor(tuple(secrets))(text)
