-- Assistants created, deleted and restored on each snapshot date of the range (rows of assistant_changes about
-- a whole assistant), every source summed.
SELECT snapshot_date AS day, change_type, count(*) AS assistants
FROM assistant_changes
WHERE change_type IN ('created', 'deleted', 'restored') AND snapshot_date BETWEEN $from_date AND $to_date
GROUP BY ALL
ORDER BY day, change_type
