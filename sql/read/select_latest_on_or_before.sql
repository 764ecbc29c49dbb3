-- The rows of the latest snapshot on or before a date (connectors.warehouse.read, as_of=...).
SELECT * FROM {relation}
WHERE snapshot_date = (SELECT max(snapshot_date) FROM {relation} WHERE snapshot_date <= $as_of)
