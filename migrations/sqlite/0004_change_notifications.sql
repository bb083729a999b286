-- PostgreSQL only (change notifications for the session cache). SQLite needs
-- nothing: the cache reads `PRAGMA data_version`, which every commit changes.
SELECT 1;
