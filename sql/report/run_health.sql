-- Run health: for each snapshot date of the range, the stored runs' requests, retries, rate-limited retries
-- and IDs by outcome, every source summed (snapshot_runs holds the run that produced each date's data).
SELECT snapshot_date AS day,
       CAST(sum(requests) AS BIGINT) AS requests,
       CAST(sum(retries) AS BIGINT) AS retries,
       CAST(sum(rate_limited) AS BIGINT) AS rate_limited,
       CAST(sum(ok_count) AS BIGINT) AS ok,
       CAST(sum(not_found_count) AS BIGINT) AS not_found,
       CAST(sum(invalid_count) AS BIGINT) AS invalid,
       CAST(sum(failed_count) AS BIGINT) AS failed,
       CAST(sum(rejected_id_count) AS BIGINT) AS rejected_id,
       count(*) FILTER (WHERE len(coalesce(approved_gates, [])) > 0) AS approved_runs
FROM snapshot_runs
WHERE snapshot_date BETWEEN $from_date AND $to_date
GROUP BY snapshot_date
ORDER BY day
