-- Metadata keys of the live assistants, per source: how many assistants use each key, its distinct values, three samples.
--
-- sample_values are the first three distinct values in sort order (so they are the same on every run).
CREATE OR REPLACE VIEW metadata_keys AS
SELECT m.source,
       m.key,
       count(DISTINCT m.assistant_id) AS assistants,
       count(DISTINCT m.value) AS distinct_values,
       list_sort(list(DISTINCT m.value))[1:3] AS sample_values
FROM assistant_metadata AS m
JOIN current_assistants AS a
  ON a.source = m.source AND a.assistant_id = m.assistant_id AND a.snapshot_date = m.snapshot_date
GROUP BY m.source, m.key
ORDER BY m.source, assistants DESC, m.key
