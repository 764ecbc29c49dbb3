-- Which change-log files each source's date's rows in DuckDB came from (to load only what changed in storage).
CREATE TABLE IF NOT EXISTS history_change_files (
    source VARCHAR NOT NULL, snapshot_date DATE NOT NULL, token VARCHAR NOT NULL,
    PRIMARY KEY (source, snapshot_date))
