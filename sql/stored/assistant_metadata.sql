-- assistant_metadata: each source's membership of each date joined to the metadata of its payloads.
CREATE OR REPLACE VIEW assistant_metadata AS
SELECT m.source, m.snapshot_date, m.assistant_id, d.key, d.value
FROM snapshot_members AS m
JOIN payload_home AS h ON h.content_hash = m.content_hash
JOIN payload_metadata AS d
  ON d.content_hash = h.content_hash AND d.snapshot_date = h.stored_date AND d.source = h.stored_source
