-- loaded_runs for a database written before tables had a source column: every row is the default source's.
SELECT snapshot_date, run_id FROM snapshot_runs
