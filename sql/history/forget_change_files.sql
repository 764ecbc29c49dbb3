-- Forget where a source's change-log date was loaded from (its rows are being replaced).
DELETE FROM history_change_files WHERE source = $source AND snapshot_date = $snapshot_date
