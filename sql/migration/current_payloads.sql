-- The payload of every live assistant at its latest snapshot (see the view current_assistants).
SELECT assistant_id, snapshot_date, raw_json
FROM current_assistants
ORDER BY assistant_id
