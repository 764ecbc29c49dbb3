-- Load a date's Parquet files into a table, matching columns by name (second half of replacing the date).
INSERT INTO {table} BY NAME SELECT * FROM read_parquet($files)
