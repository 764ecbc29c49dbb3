-- Lock a query session: DuckDB may read only the given folders and files (the warehouse and --allow-read), no
-- URL and no extension; nothing is installed on demand, and no setting can change after this.
SET allowed_directories = $directories;
SET allowed_paths = $paths;
SET enable_external_access = false;
SET autoinstall_known_extensions = false;
SET lock_configuration = true
