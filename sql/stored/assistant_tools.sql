-- assistant_tools: each source's membership of each date joined to the tools of its payloads.
CREATE OR REPLACE VIEW assistant_tools AS
SELECT m.source, m.snapshot_date, m.assistant_id, t.tool_index, t.type, t.function_name, t.function_description,
       t.function_parameters, t.function_strict, t.file_search_max_num_results, t.file_search_ranker,
       t.file_search_score_threshold, t.extra_fields
FROM snapshot_members AS m
JOIN payload_home AS h ON h.content_hash = m.content_hash
JOIN payload_tools AS t
  ON t.content_hash = h.content_hash AND t.snapshot_date = h.stored_date AND t.source = h.stored_source
