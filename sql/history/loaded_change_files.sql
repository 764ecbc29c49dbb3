-- The change-log dates DuckDB holds, with the token of the files they were loaded from.
SELECT snapshot_date, token FROM history_change_files
