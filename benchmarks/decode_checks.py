"""What the decode-time checks cost per body: run by hand, ``python -m benchmarks.decode_checks``.

Measures, on the sandbox's bodies as served (2,000 generated assistants, about 3 KB each, and the
64 bundled ones), the client's decode of a 200 body against ways to find duplicate keys and integers
the columns cannot hold:

* ``loads``: ``json.loads`` with the client's ``parse_float`` hook (what the client did before);
* ``loads + pairs hook``: the same with ``object_pairs_hook`` checking every object for duplicates;
* ``loads + int hook``: the same with a ``parse_int`` hook (called once per integer token);
* ``colon count``: the cheap test the client runs instead (counting ``:`` in the body and in the
  canonical text the content hash needs anyway); ``canonical`` is that text's encode, for scale;
* ``client's work per 200 body``: what the client does with a body once its bytes are in, as the checkout has it:
  decode the text, parse it, judge it (validation, storability, the duplicate-key and column-range checks where
  they exist), hash it and list its unknown fields. Run on two checkouts to compare;
* then, where the duplicate-key check exists, the same work with and without it, interleaved in one process.

The fastest and the median of 9 passes, in microseconds of CPU time per body (process time, so waiting for a
core on a shared machine is not counted; the fastest is still the steadier figure). Timings belong here, never
in the test suite.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from assistants_export.connectors.core.hashing import _CANONICAL_ENCODER
from assistants_export.sandbox.fixtures import GeneratedCatalog, bundled_assistants, serialize_body


def _float(token: str) -> float | int:
    value = float(token)
    return int(value) if value.is_integer() else value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) != len(pairs):
        raise ValueError("duplicate key")
    return made


def _int(token: str) -> int:
    value = int(token)
    if len(token) > 18 and not -(2**63) <= value < 2**63:
        raise ValueError("too large")
    return value


def bodies() -> list[str]:
    catalog = GeneratedCatalog(2000, seed=1)
    texts = [serialize_body(catalog.build(i)).decode() for i in range(len(catalog))]
    texts += [serialize_body(a).decode() for a in bundled_assistants()]
    return texts


def per_body(texts: list[str], work: Callable[[str], object], rounds: int = 9) -> tuple[float, float]:
    """(fastest, median) of ``rounds`` passes over ``texts``, in microseconds per body."""
    timings = []
    for _ in range(rounds):
        start = time.process_time()
        for text in texts:
            work(text)
        timings.append((time.process_time() - start) / len(texts) * 1e6)
    return min(timings), statistics.median(timings)


def client_work() -> Callable[[str], object]:
    """The client's work on one 200 body, without HTTP: ``AssistantsClient._answer`` where it exists (it reads the
    body and decodes it once), else what ``_request`` did inline before it."""
    import httpx

    from assistants_export.connectors.openai_assistants import client as client_module
    from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
    from assistants_export.connectors.openai_assistants.verdicts import Answer, judge

    client = client_module.AssistantsClient(ClientConfig(api_key=Secret("sk-bench-0000")))
    headers = httpx.Headers({"content-type": "application/json"})
    answer_of = getattr(client, "_answer", None)

    def old_answer(status: int, headers: httpx.Headers, data: bytes) -> Answer:
        text = data.decode("utf-8", errors="replace")
        watch = client_module._FloatWatch()  # type: ignore[attr-defined]
        return Answer(status, headers, text, client_module._parse_json(headers, text, watch),  # type: ignore
                      watch.overflow)

    make = answer_of or old_answer

    canonicalize = getattr(client, "_canonicalize", None)

    def work(text: str) -> object:
        answer = make(200, headers, text.encode())
        if canonicalize is not None:
            canonicalize(answer)
        assistant_id = answer.json["id"]
        verdict = judge(answer, expected_id=assistant_id, attempt=1, elapsed=0.0, policy=client._policy, jitter=0.0)
        extra = {"canonical": answer.canonical} if canonicalize is not None else {}
        return client._payload_result(assistant_id, verdict, answer.json, answer.text, 1, 200, **extra)

    return work


def duplicate_check_cost(texts: list[str], rounds: int = 21) -> None:
    """The client's work per body with and without the duplicate-key check, interleaved round by round in one
    process (so a noisy neighbour slows both alike): without it, the content hash makes the canonical text
    itself, as before; with it, the text is made first, its colons counted, and the hash reuses it."""
    import httpx

    from assistants_export.connectors.openai_assistants.client import AssistantsClient
    from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
    from assistants_export.connectors.openai_assistants.verdicts import judge

    client = AssistantsClient(ClientConfig(api_key=Secret("sk-bench-0000")))
    headers = httpx.Headers({"content-type": "application/json"})

    def without(text: str) -> object:
        answer = client._answer(200, headers, text.encode())
        verdict = judge(answer, expected_id=answer.json["id"], attempt=1, elapsed=0.0, policy=client._policy,
                        jitter=0.0)
        return client._payload_result(answer.json["id"], verdict, answer.json, answer.text, 1, 200)

    def with_check(text: str) -> object:
        answer = client._answer(200, headers, text.encode())
        client._canonicalize(answer)
        verdict = judge(answer, expected_id=answer.json["id"], attempt=1, elapsed=0.0, policy=client._policy,
                        jitter=0.0)
        return client._payload_result(answer.json["id"], verdict, answer.json, answer.text, 1, 200,
                                      canonical=answer.canonical)

    timings: dict[str, list[float]] = {"without the check": [], "with the check": []}
    for _ in range(rounds):
        for name, work in (("without the check", without), ("with the check", with_check)):
            start = time.process_time()
            for text in texts:
                work(text)
            timings[name].append((time.process_time() - start) / len(texts) * 1e6)
    for name, values in timings.items():
        print(f"{name:28} {min(values):7.1f} µs/body fastest, {statistics.median(values):7.1f} median")


def main() -> None:
    texts = bodies()
    decoded = {text: json.loads(text, parse_float=_float) for text in texts}
    canonical = {text: _CANONICAL_ENCODER.encode(value) for text, value in decoded.items()}

    def colons(text: str) -> bool:
        raw = text.count(":")
        if "\\" in text:
            raw += text.count("\\u003a") + text.count("\\u003A")
        return raw > canonical[text].count(":")

    runs: dict[str, Callable[[str], object]] = {
        "loads": lambda t: json.loads(t, parse_float=_float),
        "loads + pairs hook": lambda t: json.loads(t, parse_float=_float, object_pairs_hook=_pairs),
        "loads + int hook": lambda t: json.loads(t, parse_float=_float, parse_int=_int),
        "colon count": colons,
        "canonical (for scale)": lambda t: _CANONICAL_ENCODER.encode(decoded[t]),
    }
    runs["client's work per 200 body"] = client_work()
    size = statistics.mean(len(t) for t in texts)
    print(f"{len(texts)} bodies, {size:,.0f} characters on average")
    for name, work in runs.items():
        fastest, median = per_body(texts, work)
        print(f"{name:28} {fastest:7.1f} µs/body fastest, {median:7.1f} median")
    with contextlib.suppress(AttributeError):  # AttributeError: a checkout from before the check
        duplicate_check_cost(texts)


if __name__ == "__main__":
    main()
