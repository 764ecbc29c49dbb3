"""The content hash of known bodies, pinned as literal digests.

Every stored payload is keyed by its content hash and the history diffs by it, so the
canonical form (``connectors/core/hashing.py``: sorted keys, compact separators, UTF-8
kept, integral floats written as integers) must never drift: a new Python, a JSON
library upgrade or a refactoring of where bodies are decoded would otherwise silently
make every assistant look changed the next night. The digests were computed with the
code of commit 23c6202, before the body was decoded once in the client.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from assistants_export.connectors.core.hashing import content_hash, content_hash_normalized, loads_normalized
from assistants_export.connectors.openai_assistants.client import AssistantsClient
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.openai_assistants.results import FetchResult

TYPICAL = (
    '{"id":"asst_abc123","object":"assistant","created_at":1698984975,"name":"HR Helper","description":null,'
    '"model":"gpt-4o","instructions":"You answer employee questions.","tools":[{"type":"code_interpreter"}],'
    '"tool_resources":{"code_interpreter":{"file_ids":["file-abc123"]}},"metadata":{"team":"hr"},'
    '"temperature":1.0,"top_p":1.0,"response_format":"auto"}'
)
REORDERED = (  # TYPICAL with its keys reversed, spaces, and 1 / 1698984975.0 for 1.0 / 1698984975
    '{"top_p": 1, "temperature": 1, "response_format": "auto", "metadata": {"team": "hr"}, '
    '"tool_resources": {"code_interpreter": {"file_ids": ["file-abc123"]}}, "tools": [{"type": "code_interpreter"}], '
    '"instructions": "You answer employee questions.", "model": "gpt-4o", "description": null, '
    '"name": "HR Helper", "created_at": 1698984975.0, "object": "assistant", "id": "asst_abc123"}'
)
TRICKY = (  # escapes, astral characters, U+2028, number spellings, an unknown field, nested free-form JSON
    '{"id":"asst_ünï","object":"assistant","created_at":1,"name":"Caf\\u00e9 \\ud83d\\ude00 😀",'
    '"description":"line\\nbreak \\"q\\" \\\\ \\u2028","model":"gpt-4o-mini","instructions":null,'
    '"tools":[{"type":"file_search","file_search":{"max_num_results":20,'
    '"ranking_options":{"ranker":"auto","score_threshold":0.5}}},'
    '{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"n":{"type":"number",'
    '"minimum":-0.0,"maximum":1e5,"multipleOf":0.1,"x":1E+2,"y":2.50e1,"z":1e-7,'
    '"big":123456789012345678901234567890,"w":1.5e300}}},"strict":null}}],"metadata":{"b":"2","a":"1"},'
    '"temperature":0.7,"top_p":null,"response_format":{"type":"json_schema","json_schema":{"name":"answer",'
    '"schema":{"type":"object"},"strict":true}},"x_unknown":[1.0,2.5,{"k":[]}]}'
)
MINIMAL = (
    '{"id":"asst_min","object":"assistant","created_at":0,"name":null,"description":null,"model":"m",'
    '"instructions":null,"tools":[],"metadata":null}'
)

PINNED = [
    (TYPICAL, "b21748b75a91f6772771c7314526265d091146f577c80afb306fbb6a15071ef8"),
    (REORDERED, "b21748b75a91f6772771c7314526265d091146f577c80afb306fbb6a15071ef8"),
    (TRICKY, "497573f3f0255b39293b1d3b44258ff000e3a79b5bd3ec525fabd4d9f542ddc9"),
    (MINIMAL, "0f6058f60e661547a3ba0139304427739c7706add8424d03d8c83297eb558e7a"),
]


@pytest.mark.parametrize(("body", "digest"), PINNED)
def test_the_content_hash_of_a_known_body_never_changes(body: str, digest: str) -> None:
    assert content_hash(json.loads(body)) == digest
    assert content_hash_normalized(loads_normalized(body)) == digest


@pytest.mark.parametrize(("body", "digest"), PINNED)
def test_the_client_hashes_its_one_decode_of_the_body_the_same(body: str, digest: str) -> None:
    """The fetch step stores the hash the client computed from its own decode: it must be the pinned one."""
    expected_id = json.loads(body)["id"]

    async def fetch() -> FetchResult:
        transport = httpx.MockTransport(lambda request: httpx.Response(
            200, content=body.encode(), headers={"content-type": "application/json"}))
        config = ClientConfig(api_key=Secret("sk-test"), base_url="http://api.test/v1")
        async with AssistantsClient(config, transport=transport) as client:
            return await client.retrieve(expected_id)

    result = asyncio.run(fetch())
    assert result.ok, result.message
    assert result.content_hash == digest
    assert result.body == body
