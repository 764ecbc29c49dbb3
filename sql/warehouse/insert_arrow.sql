-- Load every row of a registered Arrow dataset (a Delta table) into a table, matching columns by name, tagged
-- with the source it belongs to.
INSERT INTO {table} BY NAME SELECT *, $source AS source FROM {source}
