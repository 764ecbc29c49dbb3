"""Canonical JSON and the content hash that history is built on.

Two payloads that mean the same thing must hash the same: object keys are
sorted (a reordered metadata map is no change) and a float with no fraction is
written as an integer (``1.0`` and ``1`` are the same JSON number). Array order
is kept, because tool order is part of an assistant's configuration.

The canonical form, exactly: ``json.dumps`` with ``sort_keys=True``,
``separators=(",", ":")`` (no spaces), ``ensure_ascii=False`` (characters as
UTF-8, not ``\\u`` escapes) and ``allow_nan=False``, of the value with every
integral float replaced by its int; the content hash is the SHA-256 hex digest of
that text encoded as UTF-8. It keys every stored payload and the history, so it
must never change: ``tests/connectors/test_content_hash_pinned.py`` pins the
digests of known bodies, through the client's own decode too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def normalize_numbers(value: Any) -> Any:
    """``value`` with every integral float replaced by its int, recursively."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: normalize_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_numbers(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Compact, key-sorted, UTF-8-preserving JSON text with normalised numbers."""
    return json.dumps(normalize_numbers(value), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), allow_nan=False)


def content_hash(payload: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_json`; equal exactly when the content is equal."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


# --- The fast path for a payload read from JSON text --------------------------
#
# normalize_numbers walks and copies every container in Python, which was the
# largest single cost of the flatten step. Parsing with a ``parse_float`` hook
# normalises the (few) float tokens inside the C parser instead, and the text of
# an already normalised value needs no walk: for any JSON text ``t``,
# ``canonical_json_normalized(loads_normalized(t)) == canonical_json(json.loads(t))``
# (tests/connectors/test_hashing_fast_path.py checks it on generated payloads).


def _normalized_float(token: str) -> float | int:
    value = float(token)
    return int(value) if value.is_integer() else value


_NORMALIZING_DECODER = json.JSONDecoder(parse_float=_normalized_float)
_CANONICAL_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads_normalized(text: str) -> Any:
    """``normalize_numbers(json.loads(text))``, without the walk: integral floats are ints from the start."""
    return _NORMALIZING_DECODER.decode(text)


def canonical_json_normalized(value: Any) -> str:
    """:func:`canonical_json` of a value whose numbers are already normalised (from :func:`loads_normalized`)."""
    return _CANONICAL_ENCODER.encode(value)


def content_hash_normalized(payload: Any) -> str:
    """:func:`content_hash` of a payload from :func:`loads_normalized`."""
    return content_hash_of_canonical(_CANONICAL_ENCODER.encode(payload))


def content_hash_of_canonical(text: str) -> str:
    """:func:`content_hash` of the payload whose :func:`canonical_json_normalized` is ``text`` (for a caller that
    needed that text anyway)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
