-- The latest snapshot of each live assistant: one row per assistant, with the columns of `assistants`.
--
-- An assistant's latest snapshot is the most recent snapshot_date on which it was fetched `ok`. It is
-- left out when a later snapshot says it was deleted: a `not_found` row in fetch_errors, or a
-- discover-mode snapshot (a complete listing) in which it appears neither in `assistants` nor in
-- fetch_errors. A later `failed`, `invalid` or `rejected_id` outcome, or an ids-mode snapshot that did
-- not ask for it, says nothing about whether it still exists, so it stays with its last good row.
CREATE OR REPLACE VIEW current_assistants AS
WITH latest AS (
    SELECT assistant_id, max(snapshot_date) AS snapshot_date
    FROM assistants
    GROUP BY assistant_id
)
SELECT a.*
FROM assistants AS a
JOIN latest AS l ON l.assistant_id = a.assistant_id AND l.snapshot_date = a.snapshot_date
WHERE NOT EXISTS (
        SELECT 1 FROM fetch_errors AS e
        WHERE e.assistant_id = a.assistant_id AND e.outcome = 'not_found' AND e.snapshot_date > a.snapshot_date)
  AND NOT EXISTS (
        SELECT 1 FROM snapshot_runs AS r
        WHERE r.mode = 'discover' AND r.snapshot_date > a.snapshot_date
          AND NOT EXISTS (SELECT 1 FROM fetch_errors AS e
                          WHERE e.assistant_id = a.assistant_id AND e.snapshot_date = r.snapshot_date))
ORDER BY a.assistant_id
