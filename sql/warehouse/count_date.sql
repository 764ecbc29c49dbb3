-- Rows a table holds for one snapshot date of one source.
SELECT count(*) FROM {table} WHERE snapshot_date = $snapshot_date AND source = $source
