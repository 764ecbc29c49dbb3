"""What fetching one assistant ID came to.

Every ID ends in exactly one :class:`FetchResult`. ``ok`` results carry the
payload; all others become one row of ``fetch_errors``, with the body kept for
quarantine so nothing the server said is lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How an ID ended. The values are what the tables store."""

    OK = "ok"
    NOT_FOUND = "not_found"
    """404 with the API's "No assistant found" error."""
    INVALID = "invalid"
    """200, but the body is not a valid Assistant object (quarantined, not retried)."""
    FAILED = "failed"
    """Retries exhausted or a non-retryable error for this ID alone."""
    REJECTED_ID = "rejected_id"
    """The ID itself is malformed and was never sent."""


OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)


@dataclass(slots=True)
class FetchResult:
    """The end of one ID's fetch. ``payload`` is set only for ``ok``."""

    assistant_id: str
    outcome: Outcome
    fetched_at: dt.datetime
    attempts: int = 0
    http_status: int | None = None
    error_type: str | None = None
    message: str | None = None
    body: str | None = None
    """The raw body as received: the payload for ``ok``, the quarantined body otherwise."""
    payload: dict[str, Any] | None = None
    """The body as the client decoded it, once, with integral floats made ints (``hashing.loads_normalized``'s
    form): what the fetch step hashes and flattens, so no body is parsed twice."""
    content_hash: str | None = None
    """``ok`` only: the payload's content hash (``hashing.content_hash_normalized``), computed from ``payload``."""
    unknown_fields: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def decoded(self) -> tuple[str, dict[str, Any]]:
        """``(content_hash, payload)`` of an ``ok`` result: what the fetch step stores, without parsing the body."""
        if self.content_hash is None or self.payload is None:
            raise ValueError(f"{self.assistant_id}: only an ok result has a decoded payload")
        return self.content_hash, self.payload
