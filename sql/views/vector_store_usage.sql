-- Vector stores attached to the live assistants (file_search), per source, and which assistants share each one.
CREATE OR REPLACE VIEW vector_store_usage AS
SELECT r.source,
       r.resource_id AS vector_store_id,
       count(DISTINCT r.assistant_id) AS assistants,
       list_sort(list(DISTINCT r.assistant_id)) AS assistant_ids
FROM assistant_tool_resources AS r
JOIN current_assistants AS a
  ON a.source = r.source AND a.assistant_id = r.assistant_id AND a.snapshot_date = r.snapshot_date
WHERE r.resource_type = 'file_search_vector_store'
GROUP BY r.source, r.resource_id
ORDER BY r.source, assistants DESC, vector_store_id
