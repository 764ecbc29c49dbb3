"""Foundry agents for the sandbox: Azure AI Foundry Agent Service's Agent objects, with its own tool types.

:class:`FoundryCatalog` serves ``n`` generated agents (the generated assistants of :class:`GeneratedCatalog`,
reshaped into Foundry's Agent: ``tool_resources``, ``temperature`` and ``top_p`` always present) where every
tool type of the vendored slice appears (``bing_grounding``, ``azure_ai_search``, ``connected_agent``,
``openapi``, ``azure_function`` beside OpenAI's three), with every kind of tool resource (search indexes,
data sources, vector store configurations), and a tool type the slice does not know (``sharepoint_grounding``,
which newer API versions add) so the export shows what it does with a future type. Connected agents call
other agents of the same catalogue, so the ``connected_agents`` view has a graph to draw.
"""

from __future__ import annotations

import json
import random
from typing import Any

from assistants_export.sandbox.fixtures import GeneratedCatalog, serialize_body

Json = dict[str, Any]

FOUNDRY_TOOL_TYPES = ("bing_grounding", "azure_ai_search", "connected_agent", "openapi", "azure_function")
"""Foundry's own tool types in the vendored slice (beside ``code_interpreter``, ``file_search``, ``function``)."""

FUTURE_TOOL_TYPE = "sharepoint_grounding"
"""A tool type the vendored slice does not define: it must land as a typed row with its JSON kept."""

_PROJECT_RESOURCE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-agents/providers/" \
                    "Microsoft.CognitiveServices/accounts/sandbox-ai/projects/sandbox-project/connections/"


def _connection(name: str) -> str:
    return _PROJECT_RESOURCE + name


def foundry_tool(kind: str, rng: random.Random, index: int, agent_id_at: Any) -> Json:
    """One Foundry tool of type ``kind`` for the agent at ``index`` (``agent_id_at(i)``: the ID of agent ``i``)."""
    if kind == "bing_grounding":
        configuration: Json = {"connection_id": _connection("bing-search")}
        if rng.random() < 0.7:
            configuration.update(market=rng.choice(("en-US", "de-DE", "fr-FR")), set_lang="en",
                                 count=rng.choice((5, 10, 20)), freshness=rng.choice(("Day", "Week", "Month")))
        return {"type": kind, "bing_grounding": {"search_configurations": [configuration]}}
    if kind == "azure_ai_search":
        return {"type": kind}
    if kind == "connected_agent":
        target = rng.randrange(index) if index else 0
        return {"type": kind, "connected_agent": {
            "id": agent_id_at(target), "name": f"helper_{target}",
            "description": "Answers questions the main agent hands over about its own field."}}
    if kind == "openapi":
        auth: Json = rng.choice((
            {"type": "anonymous"},
            {"type": "connection", "security_scheme": {"connection_id": _connection("weather-api")}},
            {"type": "managed_identity", "security_scheme": {"audience": "https://weather.example.com"}},
        ))
        openapi: Json = {
            "name": "weather", "description": "Current weather for a city.",
            "spec": {"openapi": "3.0.1", "info": {"title": "Weather", "version": "1.0"},
                     "servers": [{"url": "https://weather.example.com"}],
                     "paths": {"/current": {"get": {"operationId": "current", "parameters": [
                         {"name": "city", "in": "query", "required": True, "schema": {"type": "string"}}]}}}},
            "auth": auth,
        }
        if rng.random() < 0.5:
            openapi["default_params"] = ["units"]
        if rng.random() < 0.5:
            openapi["functions"] = [{"name": "weather_current", "description": "Current weather.",
                                     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
        return {"type": kind, "openapi": openapi}
    if kind == "azure_function":
        queue = "https://sandboxstorage.queue.core.windows.net"
        return {"type": kind, "azure_function": {
            "function": {"name": "convert_currency", "description": "Convert an amount between currencies.",
                         "parameters": {"type": "object", "properties": {
                             "amount": {"type": "number"}, "to": {"type": "string"}}, "required": ["amount", "to"]}},
            "input_binding": {"type": "storage_queue", "storage_queue": {
                "queue_service_endpoint": queue, "queue_name": "convert-input"}},
            "output_binding": {"type": "storage_queue", "storage_queue": {
                "queue_service_endpoint": queue, "queue_name": "convert-output"}}}}
    if kind == FUTURE_TOOL_TYPE:
        return {"type": kind, kind: {"connections": [{"connection_id": _connection("sharepoint")}]}}
    raise ValueError(f"not a Foundry tool type: {kind!r}")


def _data_source(rng: random.Random, name: str) -> Json:
    if rng.random() < 0.5:
        return {"uri": f"azureml://datastores/workspaceblobstore/paths/{name}.pdf", "type": "uri_asset"}
    return {"uri": f"azureml://locations/eastus/workspaces/ws/data/{name}/versions/1", "type": "id_asset"}


def foundry_agent(generated: Json, index: int, agent_id_at: Any, seed: int = 0) -> Json:
    """``generated`` (a generated assistant) reshaped into a Foundry Agent with Foundry's tools and resources."""
    rng = random.Random(f"foundry:{seed}:{index}")
    agent = dict(generated)
    if rng.random() < 0.3:
        agent.pop("response_format", None)
    for key in ("temperature", "top_p"):
        agent.setdefault(key, None)
    kinds = [FOUNDRY_TOOL_TYPES[index % len(FOUNDRY_TOOL_TYPES)]]
    if rng.random() < 0.4:
        kinds.append(rng.choice(FOUNDRY_TOOL_TYPES))
    if index % 7 == 3:
        kinds.append(FUTURE_TOOL_TYPE)
    if index == 0:  # the oldest agent cannot call an older one
        kinds = [kind for kind in kinds if kind != "connected_agent"] or ["bing_grounding"]
    for tool in agent["tools"]:  # Foundry's FunctionDefinition requires parameters
        if tool["type"] == "function":
            tool["function"].setdefault("parameters", {"type": "object", "properties": {}})
    tools = [*agent["tools"], *(foundry_tool(kind, rng, index, agent_id_at) for kind in dict.fromkeys(kinds))]
    agent["tools"] = tools
    resources = dict(agent.get("tool_resources") or {})
    types = {tool["type"] for tool in tools}
    if "azure_ai_search" in types:
        index_resource: Json = {"index_connection_id": _connection("search"), "index_name": f"docs-{index % 5}"}
        if rng.random() < 0.7:
            index_resource.update(query_type=rng.choice(("simple", "semantic", "vector", "vector_simple_hybrid",
                                                          "vector_semantic_hybrid")), top_k=rng.choice((3, 5, 10)))
        if rng.random() < 0.3:
            index_resource["filter"] = "category eq 'policy'"
        if rng.random() < 0.2:
            index_resource = {"index_asset_id": f"azureml://locations/eastus/workspaces/ws/indexes/docs/{index}",
                              "query_type": "semantic"}
        resources["azure_ai_search"] = {"indexes": [index_resource]}
    if "code_interpreter" in types and rng.random() < 0.5:
        code = dict(resources.get("code_interpreter") or {})
        code.pop("file_ids", None)  # data_sources is mutually exclusive with file_ids
        code["data_sources"] = [_data_source(rng, f"table-{n}") for n in range(rng.randint(1, 3))]
        resources["code_interpreter"] = code
    if "file_search" in types and rng.random() < 0.5:
        resources["file_search"] = {"vector_stores": [{"name": f"handbook-{index % 3}", "configuration": {
            "data_sources": [_data_source(rng, f"handbook-{n}") for n in range(rng.randint(0, 2))]}}]}
    agent["tool_resources"] = resources or rng.choice((None, {}))
    return agent


class FoundryCatalog(GeneratedCatalog):
    """``n`` generated Foundry agents (every tool and resource type of the slice, plus a future tool type)."""

    def _body_at(self, index: int) -> bytes:
        generated = json.loads(super()._body_at(index))
        return serialize_body(foundry_agent(generated, index, self._id_at, self._seed))
