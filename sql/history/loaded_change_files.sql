-- The change-log dates DuckDB holds for one source, with the token of the files they were loaded from.
SELECT snapshot_date, token FROM history_change_files WHERE source = $source
