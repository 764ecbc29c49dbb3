-- The rows of one snapshot date (connectors.warehouse.read, date=...).
SELECT * FROM {relation} WHERE snapshot_date = $date
