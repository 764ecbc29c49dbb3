-- The one stored copy each payload is read from: the earliest date that stored it, then the first source by name.
--
-- A payload is keyed by content_hash alone (the same hash is the same body, whatever the source), but two
-- sources, or two runs, may both have stored it. Every view reads payloads (and their child tables) through
-- this one home, joining on content_hash, stored_date and stored_source, so no row is ever read twice. The
-- pick is that of row_number() OVER (PARTITION BY content_hash ORDER BY snapshot_date, source) = 1, written
-- as one aggregate (about twice as fast: no sort).
CREATE OR REPLACE VIEW payload_home AS
SELECT content_hash,
       arg_min(source, (snapshot_date, source)) AS stored_source,
       min(snapshot_date) AS stored_date
FROM payloads
GROUP BY content_hash
