-- Load one snapshot date of a registered Arrow dataset (a Delta table) into a table, matching columns by name
-- and tagged with the source it belongs to (second half of replacing the date; the filter on the partition
-- column reads only that date's files).
INSERT INTO {table} BY NAME SELECT *, $source AS source FROM {source} WHERE snapshot_date = $snapshot_date
