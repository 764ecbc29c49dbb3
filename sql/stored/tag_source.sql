-- One source's registered stored rows with the source's name (from a registered one-row table) as a first column.
SELECT s.source, d.* FROM {relation} AS d CROSS JOIN {source_name} AS s
