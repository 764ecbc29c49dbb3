-- Load a date's Parquet files into a table, matching columns by name and tagged with the source they belong
-- to (second half of replacing the date).
INSERT INTO {table} BY NAME SELECT *, $source AS source FROM read_parquet($files)
