-- Record which files a change-log date was loaded from.
INSERT INTO history_change_files VALUES ($snapshot_date, $token)
