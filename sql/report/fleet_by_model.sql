-- The fleet over time: assistants live on each snapshot date of the range, by model, every source summed.
-- "Live" is the history's: a version valid that day that is not a deletion (as config_as_of.sql).
WITH days AS (
    SELECT DISTINCT source, snapshot_date AS day
    FROM snapshot_runs
    WHERE snapshot_date BETWEEN $from_date AND $to_date
)
SELECT d.day, coalesce(h.model, '(none)') AS model, count(*) AS assistants
FROM days AS d
JOIN assistant_history AS h
  ON h.source = d.source AND h.valid_from <= d.day AND (h.valid_to IS NULL OR h.valid_to > d.day)
WHERE NOT h.is_deleted
GROUP BY ALL
ORDER BY d.day, assistants DESC, model
