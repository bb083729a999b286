-- The session cache's guards (SQLite and PostgreSQL). Nothing on MySQL: no
-- validated session cache runs there.
SELECT 1;
