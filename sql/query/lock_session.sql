-- Lock a query session: no extension is installed on demand, and no setting can change after this.
SET autoinstall_known_extensions = false;
SET lock_configuration = true
