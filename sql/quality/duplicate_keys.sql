-- Keys that more than one row of the registered partition `partition_rows` shares ({keys}: the table's key columns).
SELECT {keys}, count(*) AS n FROM partition_rows GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC
