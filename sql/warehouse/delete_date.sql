-- Remove one snapshot date of one source from a table (first half of replacing the date).
DELETE FROM {table} WHERE snapshot_date = $snapshot_date AND source = $source
