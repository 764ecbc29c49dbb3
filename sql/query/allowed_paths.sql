-- The files a query session may already read (an attached database's), kept when the session is locked.
SELECT current_setting('allowed_paths')
