-- Which run's data DuckDB holds for each snapshot date of one source (compared with the stored tables to find
-- dates still to load).
SELECT snapshot_date, run_id FROM snapshot_runs WHERE source = $source
