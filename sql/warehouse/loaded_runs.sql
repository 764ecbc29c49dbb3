-- Which run's data DuckDB holds for each snapshot date (compared with Parquet to find dates still to load).
SELECT snapshot_date, run_id FROM snapshot_runs
