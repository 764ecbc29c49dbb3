-- Rows a table holds for one snapshot date.
SELECT count(*) FROM {table} WHERE snapshot_date = $snapshot_date
