-- Attach the warehouse database for a writing session, with the row-group size loads are written in.
ATTACH $path AS {database} (ROW_GROUP_SIZE $row_group_size)
