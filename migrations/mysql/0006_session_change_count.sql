-- SQLite only (the session cache's change counter). MySQL has no session cache
-- counter: see migration 4.
SELECT 1;
