-- The tools of each live assistant at its latest snapshot, in order, with the assistant's name and model.
--
-- The rows of assistant_tools that belong to the rows of current_assistants.
CREATE OR REPLACE VIEW current_tools AS
SELECT t.source, t.snapshot_date, t.assistant_id, a.name AS assistant_name, a.model,
       t.* EXCLUDE (source, snapshot_date, assistant_id)
FROM assistant_tools AS t
JOIN current_assistants AS a
  ON a.source = t.source AND a.assistant_id = t.assistant_id AND a.snapshot_date = t.snapshot_date
ORDER BY t.source, t.assistant_id, t.tool_index
