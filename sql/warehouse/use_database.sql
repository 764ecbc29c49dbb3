-- Make the attached warehouse database the session's default, so tables and views are created in it.
USE {database}
