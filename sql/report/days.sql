-- The snapshot dates of the report's range, with the newest and oldest date the warehouse holds.
SELECT min(snapshot_date) FILTER (WHERE snapshot_date BETWEEN $from_date AND $to_date) AS first_day,
       max(snapshot_date) FILTER (WHERE snapshot_date BETWEEN $from_date AND $to_date) AS last_day,
       count(DISTINCT snapshot_date) FILTER (WHERE snapshot_date BETWEEN $from_date AND $to_date) AS days,
       min(snapshot_date) AS stored_first,
       max(snapshot_date) AS stored_last
FROM snapshot_runs
