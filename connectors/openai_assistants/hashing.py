"""Canonical JSON and the content hash that history is built on.

Two payloads that mean the same thing must hash the same: object keys are
sorted (a reordered metadata map is no change) and a float with no fraction is
written as an integer (``1.0`` and ``1`` are the same JSON number). Array order
is kept, because tool order is part of an assistant's configuration.
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
