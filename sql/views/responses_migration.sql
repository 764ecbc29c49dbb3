-- Every live assistant as a ready Responses API request body (JSON, without `input`), with migration warnings.
--
-- The same mapping as connectors/migration/responses.py (to_responses_request), which holds the
-- reasons for every rule; tests keep the two equal on every sandbox assistant and on generated ones,
-- so change both together. Built from each assistant's payload as received (raw_json of
-- current_assistants). Columns: source, snapshot_date, assistant_id, name, description, created_at (Unix
-- seconds, as the API gave it), request (JSON), warnings (JSON array of {"code", "message"}).
-- Reasoning models are the default families of REASONING_MODELS (o1, o3, o4-mini, gpt-5); for
-- another list use `assistants-export migrate --reasoning-models`.
--
-- An object with optional keys is built as a MAP of (key, JSON value) pairs without the null ones,
-- then turned into JSON; `nullif(x, 'null')` treats a JSON null like an absent key.
CREATE OR REPLACE VIEW responses_migration AS
WITH src AS (
    SELECT source, snapshot_date, assistant_id, CAST(raw_json AS JSON) AS j
    FROM current_assistants
), base AS (
    SELECT source, snapshot_date, assistant_id, j,
           j ->> '$.model' AS model,
           coalesce(regexp_full_match(j ->> '$.model', '(?s)(o4\-mini|gpt\-5|o1|o3)([-.].*)?'), false) AS reasoning,
           coalesce(nullif(json_extract(j, '$.tool_resources.code_interpreter.file_ids'), 'null'),
                    '[]') AS file_ids,
           nullif(json_extract(j, '$.tool_resources.file_search.vector_store_ids'), 'null') AS vector_store_ids,
           coalesce(json_extract(j, '$.tools[*]'), []) AS tool_list,
           nullif(json_extract(j, '$.response_format'), 'null') AS response_format,
           nullif(json_extract(j, '$.reasoning_effort'), 'null') AS effort,
           nullif(json_extract(j, '$.temperature'), 'null') AS temperature,
           nullif(json_extract(j, '$.top_p'), 'null') AS top_p,
           coalesce(nullif(json_extract(j, '$.metadata'), 'null'), '{}') AS metadata
    FROM src
), tools AS (
    SELECT b.*,
           list_transform(tool_list, lambda t, i: CASE t ->> '$.type'
               WHEN 'function' THEN {
                   'tool': to_json(map_from_entries(list_filter([
                       {'k': 'type', 'v': to_json('function')},
                       {'k': 'name', 'v': json_extract(t, '$.function.name')},
                       {'k': 'description', 'v': nullif(json_extract(t, '$.function.description'), 'null')},
                       {'k': 'parameters', 'v': coalesce(nullif(json_extract(t, '$.function.parameters'), 'null'),
                                                         '{"type":"object","properties":{},"additionalProperties":false}')},
                       {'k': 'strict', 'v': to_json(coalesce(json_extract(t, '$.function.strict')::VARCHAR = 'true', false))}
                   ], lambda e: e.v IS NOT NULL))),
                   'warning': NULL::JSON}
               WHEN 'azure_function' THEN {
                   'tool': to_json(map_from_entries(list_filter([
                       {'k': 'type', 'v': to_json('function')},
                       {'k': 'name', 'v': json_extract(t, '$.azure_function.function.name')},
                       {'k': 'description',
                        'v': nullif(json_extract(t, '$.azure_function.function.description'), 'null')},
                       {'k': 'parameters',
                        'v': coalesce(nullif(json_extract(t, '$.azure_function.function.parameters'), 'null'),
                                      '{"type":"object","properties":{},"additionalProperties":false}')},
                       {'k': 'strict', 'v': to_json(coalesce(
                           json_extract(t, '$.azure_function.function.strict')::VARCHAR = 'true', false))}
                   ], lambda e: e.v IS NOT NULL))),
                   'warning': json_object('code', 'azure_function_queues_dropped', 'message',
                       'tool ' || CAST(i - 1 AS VARCHAR) || ' (azure_function): kept as the function tool '
                       || coalesce(CAST(json_extract(t, '$.azure_function.function.name') AS VARCHAR), 'null')
                       || '; its storage queue '
                       || coalesce(CAST(json_extract(t, '$.azure_function.input_binding.storage_queue.queue_name')
                                        AS VARCHAR), 'null')
                       || ' does not carry over: your code must call the Azure Function and return its output')}
               WHEN 'bing_grounding' THEN {
                   'tool': NULL::JSON,
                   'warning': json_object('code', 'bing_grounding_unsupported', 'message',
                       'tool ' || CAST(i - 1 AS VARCHAR) || ' (bing_grounding): Grounding with Bing Search through a '
                       || 'Foundry connection has no Responses API tool; the tool is left out: the web_search tool '
                       || 'searches without that connection')}
               WHEN 'azure_ai_search' THEN {
                   'tool': NULL::JSON,
                   'warning': json_object('code', 'azure_ai_search_unsupported', 'message',
                       'tool ' || CAST(i - 1 AS VARCHAR) || ' (azure_ai_search): the Responses API has no Azure AI '
                       || 'Search tool; the tool is left out: reach the index through a function tool or an MCP server')}
               WHEN 'connected_agent' THEN {
                   'tool': NULL::JSON,
                   'warning': json_object('code', 'connected_agent_unsupported', 'message',
                       'tool ' || CAST(i - 1 AS VARCHAR) || ' (connected_agent): calls the agent '
                       || coalesce(CAST(json_extract(t, '$.connected_agent.id') AS VARCHAR), 'null')
                       || '; the Responses API has no connected agents, so the tool is left out: call the other '
                       || 'agent''s request from your code')}
               WHEN 'openapi' THEN {
                   'tool': NULL::JSON,
                   'warning': json_object('code', 'openapi_unsupported', 'message',
                       'tool ' || CAST(i - 1 AS VARCHAR) || ' (openapi): the OpenAPI tool '
                       || coalesce(CAST(json_extract(t, '$.openapi.name') AS VARCHAR), 'null')
                       || ' has no Responses API equivalent; the tool is left out: describe its operations as '
                       || 'function tools')}
               WHEN 'file_search' THEN CASE
                   WHEN coalesce(json_array_length(vector_store_ids), 0) = 0 THEN {
                       'tool': NULL::JSON,
                       'warning': json_object('code', 'file_search_without_vector_store', 'message',
                           'tool ' || CAST(i - 1 AS VARCHAR) || ' (file_search): the assistant had no vector store of '
                           || 'its own (it searched stores attached to threads); the Responses API needs '
                           || 'vector_store_ids on the tool, so the tool is left out: add it with the stores to search')}
                   ELSE {
                       'tool': to_json(map_from_entries(list_filter([
                           {'k': 'type', 'v': to_json('file_search')},
                           {'k': 'vector_store_ids', 'v': vector_store_ids},
                           {'k': 'max_num_results', 'v': nullif(json_extract(t, '$.file_search.max_num_results'), 'null')},
                           {'k': 'ranking_options', 'v': CASE
                               WHEN nullif(json_extract(t, '$.file_search.ranking_options'), 'null') IS NOT NULL
                               THEN to_json(map_from_entries(list_filter([
                                   {'k': 'ranker', 'v': CASE
                                       WHEN t ->> '$.file_search.ranking_options.ranker' IS NULL THEN NULL
                                       WHEN t ->> '$.file_search.ranking_options.ranker' IN ('auto', 'default-2024-11-15')
                                       THEN json_extract(t, '$.file_search.ranking_options.ranker')
                                       ELSE to_json('auto') END},
                                   {'k': 'score_threshold',
                                    'v': nullif(json_extract(t, '$.file_search.ranking_options.score_threshold'), 'null')}
                               ], lambda e: e.v IS NOT NULL)))
                           END}
                       ], lambda e: e.v IS NOT NULL))),
                       'warning': CASE
                           WHEN t ->> '$.file_search.ranking_options.ranker' NOT IN ('auto', 'default-2024-11-15')
                           THEN json_object('code', 'ranker_replaced', 'message',
                               'tool ' || CAST(i - 1 AS VARCHAR) || ' (file_search): ranker '
                               || CAST(json_extract(t, '$.file_search.ranking_options.ranker') AS VARCHAR)
                               || ' does not exist in the Responses API; "auto" is used')
                       END}
                   END
               WHEN 'code_interpreter' THEN {
                   'tool': json_object('type', 'code_interpreter', 'container',
                                       json_object('type', 'auto', 'file_ids', file_ids)),
                   'warning': NULL::JSON}
               ELSE {
                   'tool': NULL::JSON,
                   'warning': json_object('code', 'tool_unsupported', 'message',
                       'tool ' || CAST(i - 1 AS VARCHAR) || ' (' || coalesce(t ->> '$.type', 'None')
                       || '): no Responses API equivalent is known; the tool is left out')}
           END) AS mapped
    FROM base AS b
), parts AS (
    SELECT source, snapshot_date, assistant_id, j, model, reasoning, temperature, top_p, metadata, effort,
           list_filter(list_transform(mapped, lambda m: m.tool), lambda x: x IS NOT NULL) AS tool_objects,
           list_filter(list_transform(mapped, lambda m: m.warning), lambda x: x IS NOT NULL) AS tool_warnings,
           CASE
               WHEN json_type(response_format) = 'OBJECT' AND response_format ->> '$.type' IN ('text', 'json_object')
               THEN json_object('format', json_object('type', response_format ->> '$.type'))
               WHEN json_type(response_format) = 'OBJECT' AND response_format ->> '$.type' = 'json_schema'
               THEN json_object('format', to_json(map_from_entries(list_filter([
                   {'k': 'type', 'v': to_json('json_schema')},
                   {'k': 'name', 'v': json_extract(response_format, '$.json_schema.name')},
                   {'k': 'description', 'v': nullif(json_extract(response_format, '$.json_schema.description'), 'null')},
                   {'k': 'schema', 'v': coalesce(nullif(json_extract(response_format, '$.json_schema.schema'), 'null'),
                                                 '{"type":"object"}')},
                   {'k': 'strict', 'v': to_json(coalesce(
                       json_extract(response_format, '$.json_schema.strict')::VARCHAR = 'true', false))}
               ], lambda e: e.v IS NOT NULL))))
           END AS text,
           CASE
               WHEN json_type(response_format) = 'OBJECT' AND response_format ->> '$.type' = 'json_schema'
                    AND nullif(json_extract(response_format, '$.json_schema.schema'), 'null') IS NULL
               THEN json_object('code', 'json_schema_without_schema', 'message',
                   'response_format json_schema has no schema; {"type":"object"} is used: add the schema the '
                   || 'output must follow')
           END AS text_warning,
           coalesce(json_type(effort) = 'VARCHAR'
                    AND effort ->> '$' IN ('none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'), false)
               AS effort_known,
           metadata ->> '$.source_assistant_id' AS existing_source_id,
           len(json_keys(metadata)) AS metadata_pairs
    FROM tools
)
SELECT source,
       snapshot_date,
       assistant_id,
       j ->> '$.name' AS name,
       j ->> '$.description' AS description,
       CAST(j ->> '$.created_at' AS BIGINT) AS created_at,
       to_json(map_from_entries(list_filter([
           {'k': 'model', 'v': json_extract(j, '$.model')},
           {'k': 'instructions', 'v': nullif(json_extract(j, '$.instructions'), 'null')},
           {'k': 'tools', 'v': to_json(tool_objects)},
           {'k': 'text', 'v': text},
           {'k': 'reasoning', 'v': CASE WHEN effort_known AND reasoning THEN json_object('effort', effort) END},
           {'k': 'temperature', 'v': CASE WHEN NOT reasoning THEN temperature END},
           {'k': 'top_p', 'v': CASE WHEN NOT reasoning THEN top_p END},
           {'k': 'metadata', 'v': CASE
               WHEN existing_source_id IS NULL AND metadata_pairs < 16
               THEN json_merge_patch(metadata, json_object('source_assistant_id', assistant_id))
               ELSE metadata END}
       ], lambda e: e.v IS NOT NULL))) AS request,
       to_json(list_filter(list_concat(tool_warnings, [
           text_warning,
           CASE
               WHEN effort IS NOT NULL AND NOT effort_known
               THEN json_object('code', 'reasoning_effort_unknown', 'message',
                   'reasoning_effort ' || CAST(effort AS VARCHAR) || ' is not a Responses API effort; left out '
                   || '(the model''s default applies)')
               WHEN effort IS NOT NULL AND NOT reasoning
               THEN json_object('code', 'reasoning_effort_dropped', 'message',
                   'reasoning_effort ' || CAST(effort AS VARCHAR) || ' left out: the model is not a reasoning '
                   || 'model, and the Responses API rejects reasoning settings for it')
           END,
           CASE
               WHEN reasoning AND CAST(temperature AS DOUBLE) <> 1
               THEN json_object('code', 'sampling_parameter_dropped', 'message',
                   'temperature left out: the model is a reasoning model, which accepts only the default (1), '
                   || 'and the assistant had another value')
           END,
           CASE
               WHEN reasoning AND CAST(top_p AS DOUBLE) <> 1
               THEN json_object('code', 'sampling_parameter_dropped', 'message',
                   'top_p left out: the model is a reasoning model, which accepts only the default (1), '
                   || 'and the assistant had another value')
           END,
           CASE
               WHEN existing_source_id IS NULL AND metadata_pairs >= 16
               THEN json_object('code', 'source_id_not_in_metadata', 'message',
                   'source_assistant_id not added to the metadata: the metadata already holds 16 pairs '
                   || '(the ID is in the output line)')
               WHEN existing_source_id IS NOT NULL AND existing_source_id <> assistant_id
               THEN json_object('code', 'source_id_not_in_metadata', 'message',
                   'source_assistant_id not added to the metadata: the key already holds another value '
                   || '(the ID is in the output line)')
           END
       ]), lambda x: x IS NOT NULL)) AS warnings
FROM parts
ORDER BY source, assistant_id
