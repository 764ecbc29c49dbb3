-- Every ID that did not end ok on a given snapshot date, in each source, and why.
SELECT source, outcome, assistant_id, http_status, error_type, left(message, 70) AS message
FROM fetch_errors
WHERE snapshot_date = $snapshot_date
ORDER BY source, outcome, assistant_id
