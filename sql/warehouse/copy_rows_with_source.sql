-- Copy every row of a table of a database written before there were sources into its rebuilt twin, whose first
-- column is the source: the default source's, the only one an older version wrote.
INSERT INTO {staging} BY NAME SELECT *, $source AS source FROM {table}
