-- Which change-log files each date's rows in DuckDB came from (to load only what changed in Parquet).
CREATE TABLE IF NOT EXISTS history_change_files (snapshot_date DATE PRIMARY KEY, token VARCHAR NOT NULL)
