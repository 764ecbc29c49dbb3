-- Assistants updated on each snapshot date of the range (at least one field changed), every source summed.
SELECT snapshot_date AS day, count(DISTINCT (source, assistant_id)) AS assistants
FROM assistant_changes
WHERE change_type = 'updated' AND snapshot_date BETWEEN $from_date AND $to_date
GROUP BY snapshot_date
ORDER BY day
