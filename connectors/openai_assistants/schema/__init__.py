"""The AssistantObject JSON Schema, shipped as package data.

The schema is a copy of the OpenAI spec (MIT, see ``LICENSE-openai-openapi``) so the
project never depends on a checkout of the spec at run or test time. It is the
reference the hand-written validator in :mod:`assistants_export.connectors.openai_assistants.validation`
is cross-checked against.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_FILENAME = "assistant_object.schema.json"


def load_assistant_schema() -> dict[str, Any]:
    """Return a fresh copy of the AssistantObject schema (draft 2020-12).

    Read through :mod:`importlib.resources` so it works from a wheel or zip as well
    as from a source checkout; a new dict each call, so callers may mutate it.
    """
    text = resources.files(__name__).joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


FOUNDRY_SLICE_FILENAME = "foundry_agent.swagger.json"
"""A slice of Azure AI Foundry Agent Service's Swagger (MIT, see ``LICENSE-azure-rest-api-specs``; its
``x-source`` names the repository, path and commit): the facts the ``foundry`` dialect of the model is checked
against (``tests/connectors/test_foundry_model.py``)."""


def load_foundry_slice() -> dict[str, Any]:
    """Return a fresh copy of the vendored Foundry Agent slice (Swagger 2.0 ``definitions`` and two operations)."""
    text = resources.files(__name__).joinpath(FOUNDRY_SLICE_FILENAME).read_text(encoding="utf-8")
    slice_: dict[str, Any] = json.loads(text)
    return slice_
