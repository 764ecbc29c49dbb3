-- The one partition each payload is read from: the earliest that stored it (two runs may both store a new one).
CREATE OR REPLACE VIEW payload_home AS
SELECT content_hash, min(snapshot_date) AS stored_date
FROM payloads
GROUP BY content_hash
