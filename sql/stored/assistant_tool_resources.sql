-- assistant_tool_resources: each source's membership of each date joined to the files, vector stores, data sources
-- and search indexes of its payloads.
CREATE OR REPLACE VIEW assistant_tool_resources AS
SELECT m.source, m.snapshot_date, m.assistant_id, r.resource_type, r.resource_id, r.position, r.asset_type,
       r.vector_store_name, r.index_connection_id, r.index_name, r.index_asset_id, r.query_type, r.top_k, r.filter
FROM snapshot_members AS m
JOIN payload_home AS h ON h.content_hash = m.content_hash
JOIN payload_tool_resources AS r
  ON r.content_hash = h.content_hash AND r.snapshot_date = h.stored_date AND r.source = h.stored_source
