"""The official ``CreateResponse`` JSON Schema (the Responses API request body), shipped as package data.

``create_response.schema.json`` is a copy of the slice of the OpenAI OpenAPI spec that holds
``CreateResponse`` and every schema it references (MIT, see ``LICENSE-openai-openapi``), converted
once from YAML to JSON; its ``$comment`` says from where and how. The project never reads the spec
from anywhere else, at run time or in tests. Nothing at run time needs it: it is what tests (and
users who want to check a migrated request before sending it) validate against.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_FILENAME = "create_response.schema.json"


def load_create_response_schema() -> dict[str, Any]:
    """A fresh copy of the ``CreateResponse`` schema (draft 2020-12), read through :mod:`importlib.resources`."""
    text = resources.files(__name__).joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
