-- Forget where a change-log date was loaded from (its rows are being replaced).
DELETE FROM history_change_files WHERE snapshot_date = $snapshot_date
