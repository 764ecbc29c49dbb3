-- The latest snapshot of each live assistant: one row per source and assistant, with the columns of `assistants`.
--
-- Which assistants are live comes from the history, the one definition of "current" and "deleted"
-- that `as-of`, `history`, `diff` and the audit queries use too: an assistant is live while its
-- current version in assistant_history is not a deletion. A deletion is a confirmed `not_found`, or
-- absence from a complete discover listing; a `failed`, `invalid` or `rejected_id` outcome, or an
-- ids-mode snapshot that did not ask for it, says nothing about whether it still exists. A snapshot
-- the history has not applied (held back by the mass-deletion guard) changes nothing here either.
-- Its row is the one of the latest snapshot date on which it was fetched `ok`. Every source is apart:
-- the same assistant ID in two sources (two projects, two compatible servers) is two assistants.
CREATE OR REPLACE VIEW current_assistants AS
WITH live AS (
    SELECT source, assistant_id
    FROM assistant_history
    WHERE is_current AND NOT is_deleted
),
latest AS (
    SELECT a.source, a.assistant_id, max(a.snapshot_date) AS snapshot_date
    FROM assistants AS a
    SEMI JOIN live AS l ON l.source = a.source AND l.assistant_id = a.assistant_id
    GROUP BY a.source, a.assistant_id
)
SELECT a.*
FROM assistants AS a
JOIN latest AS l ON l.source = a.source AND l.assistant_id = a.assistant_id AND l.snapshot_date = a.snapshot_date
ORDER BY a.source, a.assistant_id
