"""A body's bytes as they arrive, decoded within the cap: the one place a response's content codings are undone;
and the check that its JSON means one thing to every parser (:func:`may_repeat_a_key`, :func:`repeated_keys`).

httpx undoes ``Content-Encoding`` itself, but it inflates each chunk whole before anyone can count the result:
a gzip bomb (``gzip, gzip``: 2.5 KB on the wire, 1 GiB decoded) is expanded in one call, long before a size cap
on the decoded chunks can refuse it. So the client reads the raw bytes (``Response.aiter_raw``) and hands them
to a :class:`BodyDecoder`, which inflates every layer through ``zlib``'s ``max_length`` and stops as soon as a
layer would produce more than the cap: no layer ever holds more than ``cap + 1`` bytes of output for one chunk,
and nothing is decoded past the cap.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

from assistants_export.connectors.core.assistant_model import Path
from assistants_export.connectors.core.errors import ResponseTooLarge, UndecodableResponse

MAX_CONTENT_CODINGS = 3
"""Content codings undone at most (``gzip, gzip, gzip``); a body in more is refused. No server has a reason to
compress twice, let alone three times, and each layer may hold up to the cap while it is undone."""

ACCEPT_ENCODING = "gzip, deflate"
"""What the client asks for: the codings :class:`BodyDecoder` undoes within the cap (``x-gzip`` is read too)."""

_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class _Layer:
    """One content coding being undone, its output counted against the cap."""

    __slots__ = ("coding", "inflater", "produced", "started")

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.inflater = zlib.decompressobj(_WBITS[coding])
        self.produced = 0
        self.started = False

    def inflate(self, data: bytes, cap: int) -> bytes:
        try:
            out = self.inflater.decompress(data, cap - self.produced + 1)
        except zlib.error as exc:
            if self.coding == "deflate" and not self.started:  # "deflate" as raw DEFLATE, without the zlib header
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self.started = True
                return self.inflate(data, cap)
            raise UndecodableResponse("undecodable_body",
                                      f"the body is not valid {self.coding} data ({exc})") from None
        self.started = True
        self.produced += len(out)
        if self.produced > cap or self.inflater.unconsumed_tail:
            raise ResponseTooLarge
        return out

    def finish(self, cap: int) -> bytes:
        try:
            out = self.inflater.flush()
        except zlib.error as exc:  # pragma: no cover - zlib reports corrupt data while inflating
            raise UndecodableResponse("undecodable_body", f"the body is not valid {self.coding} data ({exc})") \
                from None
        self.produced += len(out)
        if self.produced > cap:
            raise ResponseTooLarge
        return out


class BodyDecoder:
    """Undo ``codings`` (a response's ``Content-Encoding``, in the order they were applied) within ``cap`` bytes.

    :meth:`feed` each raw chunk and keep what it returns, then :meth:`finish`. A layer whose output would pass
    the cap raises :class:`ResponseTooLarge` (the message names the cap and the codings), a coding the client
    does not undo or one too many raises :class:`UndecodableResponse`, as does corrupt compressed data. Unknown
    codings are refused rather than passed on (httpx passes them on): the client never asked for them.
    """

    def __init__(self, codings: Sequence[str], cap: int) -> None:
        codings = [c.strip().lower() for c in codings if c.strip() and c.strip().lower() != "identity"]
        unknown = [c for c in codings if c not in _WBITS]
        if unknown:
            raise UndecodableResponse("unsupported_encoding",
                                      f"the body is in a content coding the client did not ask for ({unknown[0][:40]}; "
                                      f"it asks for {ACCEPT_ENCODING})")
        if len(codings) > MAX_CONTENT_CODINGS:
            raise UndecodableResponse("unsupported_encoding",
                                      f"the body is in {len(codings)} content codings ({', '.join(codings[:8])}); "
                                      f"at most {MAX_CONTENT_CODINGS} are undone")
        self.cap = cap
        self.codings = codings
        self._layers = [_Layer(coding) for coding in reversed(codings)]
        self.size = 0
        """Decoded bytes so far."""

    def feed(self, chunk: bytes) -> bytes:
        """The decoded bytes ``chunk`` (raw, as received) adds."""
        try:
            for layer in self._layers:
                chunk = layer.inflate(chunk, self.cap)
        except ResponseTooLarge:
            raise self._too_large() from None
        return self._count(chunk)

    def finish(self) -> bytes:
        """What the layers still held once the last raw chunk is in."""
        tail = b""
        try:
            for layer in self._layers:
                tail = layer.inflate(tail, self.cap) + layer.finish(self.cap) if tail else layer.finish(self.cap)
        except ResponseTooLarge:
            raise self._too_large() from None
        return self._count(tail)

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.cap:
            raise self._too_large()
        return data

    def _too_large(self) -> ResponseTooLarge:
        decoded = f"decoded from {', '.join(self.codings)} " if self.codings else ""
        return ResponseTooLarge(f"response {decoded}exceeds the {self.cap:,}-byte cap (max_response_bytes)")


# --- One parser's truth: keys that appear twice --------------------------------------------------------------
#
# Python's json keeps the last of two equal keys in one object, DuckDB's JSON functions (and others) the first:
# a body holding "id" twice would be stored under one ID and read back under another. So a body with a key twice
# in any object is invalid. Finding them with object_pairs_hook costs a Python call per object, about a fifth of
# the parse (benchmarks/decode_checks.py); instead, the colons are counted. Every member of an object has one
# ":" outside strings; a string holds the same ":" in the text and decoded, except those written \u003a. So the
# text has more colons than a JSON text of the decoded value (with no whitespace: the canonical text the content
# hash needs anyway) exactly when members were lost, or when \u003a escapes were written: only then is the body
# parsed again, with the hook, to find the keys and their paths.

def colons(text: str) -> int:
    """The ``:`` of a JSON text as written, ``\\u003a`` escapes counted as one each."""
    count = text.count(":")
    if "\\" in text:  # a one-character search runs at memchr speed; most bodies hold no backslash at all
        count += text.count("\\u003a") + text.count("\\u003A")
    return count


def may_repeat_a_key(text: str, decoded_colons: int) -> bool:
    """Whether JSON ``text`` may hold a key twice in one object, given the ``:`` count of a compact JSON text of
    what it decodes to (members and the ``:`` in strings). ``False`` is certain; ``True`` is then checked by
    :func:`repeated_keys`."""
    return colons(text) > decoded_colons


class _Pairs(list[tuple[str, Any]]):
    """An object as its members, in order, repeated keys kept."""


def repeated_keys(text: str) -> list[Path]:
    """The path of the first repeated key of each object in JSON ``text`` that has one (the key last), in document
    order; ``[]`` when there are none or when the text does not parse."""
    try:
        tree = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return []
    found: list[Path] = []
    stack: list[tuple[Any, Path]] = [(tree, ())]
    while stack:  # depth first, children pushed in reverse so paths come out in document order
        value, path = stack.pop()
        if isinstance(value, _Pairs):
            seen: set[str] = set()
            for key, _ in value:
                if key in seen:
                    found.append((*path, key))
                    break
                seen.add(key)
            stack.extend((child, (*path, key)) for key, child in reversed(value))
        elif isinstance(value, list):
            stack.extend((child, (*path, index)) for index, child in reversed(list(enumerate(value))))
    return found
