-- assistant_tools: each source's membership of each date joined to the tools of its payloads.
CREATE OR REPLACE VIEW assistant_tools AS
SELECT m.source, m.snapshot_date, m.assistant_id, t.tool_index, t.type, t.function_name, t.function_description,
       t.function_parameters, t.function_strict, t.file_search_max_num_results, t.file_search_ranker,
       t.file_search_score_threshold, t.bing_connection_id, t.bing_market, t.bing_set_lang, t.bing_count,
       t.bing_freshness, t.openapi_name, t.openapi_description, t.openapi_spec, t.openapi_auth_type,
       t.openapi_connection_id, t.openapi_audience, t.openapi_default_params, t.openapi_functions, t.connected_agent_id,
       t.connected_agent_name, t.connected_agent_description, t.azure_function_input_queue_endpoint,
       t.azure_function_input_queue_name, t.azure_function_output_queue_endpoint, t.azure_function_output_queue_name,
       t.extra_fields
FROM snapshot_members AS m
JOIN payload_home AS h ON h.content_hash = m.content_hash
JOIN payload_tools AS t
  ON t.content_hash = h.content_hash AND t.snapshot_date = h.stored_date AND t.source = h.stored_source
