-- Every ID that did not end ok on a given snapshot date, and why.
SELECT outcome, assistant_id, http_status, error_type, left(message, 70) AS message
FROM fetch_errors
WHERE snapshot_date = $snapshot_date
ORDER BY outcome, assistant_id
