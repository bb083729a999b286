-- Rate-limit counters shared by every instance on this database
-- (DatabaseRateLimitStore). Same shape as Better Auth's `rateLimit` table; the key
-- holds an address or `account|<email>`, hence its length.
CREATE TABLE IF NOT EXISTS "rateLimit" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "key" varchar(512) NOT NULL,
    "count" integer NOT NULL,
    "lastRequest" bigint NOT NULL,
    UNIQUE INDEX "rateLimit_key_idx" ("key")
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
