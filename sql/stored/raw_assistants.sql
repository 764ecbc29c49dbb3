-- raw_assistants: each source's membership of each date joined to the payloads it names.
CREATE OR REPLACE VIEW raw_assistants AS
SELECT m.source, m.snapshot_date, m.assistant_id, m.fetched_at, m.attempts, p.raw_json
FROM snapshot_members AS m
JOIN payload_home AS h ON h.content_hash = m.content_hash
JOIN payloads AS p
  ON p.content_hash = h.content_hash AND p.snapshot_date = h.stored_date AND p.source = h.stored_source
