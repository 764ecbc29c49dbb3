-- Mark a view just created with the fingerprint of the SQL that defined it (a hex digest of this code's making:
-- COMMENT ON takes no parameter); replacing the view, as any load of any version does, drops the mark.
COMMENT ON VIEW {view} IS '{fingerprint}'
