-- PostgreSQL only (change notifications for the session cache). MySQL has no
-- change counter: its default session cache is off, every request reads its
-- session from the database.
SELECT 1;
