-- The dates of one source before the retention horizon that DuckDB still holds members of (a retention killed
-- before it loaded them again): loaded again from the stored files, which no longer have them.
SELECT DISTINCT snapshot_date FROM snapshot_members WHERE source = $source AND snapshot_date < $before
