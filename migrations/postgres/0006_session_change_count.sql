-- SQLite only (the session cache's change counter). PostgreSQL needs nothing:
-- its cache listens to the notifications of migration 4's triggers.
SELECT 1;
