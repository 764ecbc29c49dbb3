-- Azure AI Search indexes attached to the live agents (Foundry's azure_ai_search tool resources), per source, and
-- which agents share each one. An index is named by its connection and name, or by its asset ID.
CREATE OR REPLACE VIEW search_indexes AS
SELECT r.source,
       r.index_connection_id,
       r.index_name,
       r.index_asset_id,
       count(DISTINCT r.assistant_id) AS assistants,
       list_sort(list(DISTINCT r.assistant_id)) AS assistant_ids,
       list_sort(list(DISTINCT r.query_type) FILTER (WHERE r.query_type IS NOT NULL)) AS query_types,
       list_sort(list(DISTINCT r.top_k) FILTER (WHERE r.top_k IS NOT NULL)) AS top_ks,
       count(r.filter) AS with_filter
FROM assistant_tool_resources AS r
JOIN current_assistants AS a
  ON a.source = r.source AND a.assistant_id = r.assistant_id AND a.snapshot_date = r.snapshot_date
WHERE r.resource_type = 'azure_ai_search_index'
GROUP BY r.source, r.index_connection_id, r.index_name, r.index_asset_id
ORDER BY r.source, assistants DESC, r.index_name NULLS LAST, r.index_asset_id NULLS LAST
