-- The payload of every assistant of every source live on $as_of: its history version valid that day (not a
-- deletion), read from the version's first snapshot in its source, whose content hash is the version's.
SELECT h.source, h.assistant_id, a.snapshot_date, a.raw_json
FROM assistant_history AS h
JOIN assistants AS a ON a.source = h.source AND a.assistant_id = h.assistant_id AND a.snapshot_date = h.valid_from
WHERE h.valid_from <= $as_of
  AND (h.valid_to IS NULL OR h.valid_to > $as_of)
  AND NOT h.is_deleted
ORDER BY h.source, h.assistant_id
