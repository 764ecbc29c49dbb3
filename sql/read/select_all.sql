-- Every row of one table or view (connectors.warehouse.read).
SELECT * FROM {relation}
