-- Put a table rebuilt under another name in the place of the one it replaces (dropped just before).
ALTER TABLE {staging} RENAME TO {table}
