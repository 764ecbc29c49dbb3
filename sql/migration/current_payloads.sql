-- The payload of every live assistant of every source at its latest snapshot (see the view current_assistants).
SELECT source, assistant_id, snapshot_date, raw_json
FROM current_assistants
ORDER BY source, assistant_id
