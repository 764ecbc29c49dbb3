-- Load every row of a registered Arrow dataset (a Delta table) into a table, matching columns by name.
INSERT INTO {table} BY NAME SELECT * FROM {source}
