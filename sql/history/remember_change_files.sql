-- Record which files a source's change-log date was loaded from.
INSERT INTO history_change_files (source, snapshot_date, token) VALUES ($source, $snapshot_date, $token)
