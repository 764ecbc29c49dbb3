-- Resolve names in the query session first (its views), then in the attached warehouse database (its tables).
SET search_path = 'memory.main,warehouse.main'
