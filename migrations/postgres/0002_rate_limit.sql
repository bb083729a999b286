-- Rate-limit counters shared by every instance on this database
-- (DatabaseRateLimitStore). Same shape as Better Auth's `rateLimit` table.
CREATE TABLE IF NOT EXISTS "rateLimit" (
    "id" text NOT NULL PRIMARY KEY,
    "key" text NOT NULL,
    "count" integer NOT NULL,
    "lastRequest" bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS "rateLimit_key_idx" ON "rateLimit" ("key");
