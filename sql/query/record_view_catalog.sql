-- Record the names of the views just created in this database, with the fingerprint of the SQL that defined them.
INSERT INTO view_catalog SELECT unnest($names), $fingerprint
