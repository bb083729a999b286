-- Better Auth 1.7's two-factor schema, as its MySQL adapter creates it: the
-- user's flag and one row per user holding the authenticator secret
-- (encrypted) and the backup codes (digests). "lastUsedStep" is ours: the last
-- TOTP time step accepted, so a code is used at most once. The table comes
-- first: run again after a failure, it is kept and the flag is added.
CREATE TABLE IF NOT EXISTS "twoFactor" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "secret" varchar(255) NOT NULL,
    "backupCodes" text NOT NULL,
    "userId" varchar(36) NOT NULL,
    "verified" boolean DEFAULT true,
    "failedVerificationCount" integer DEFAULT 0,
    "lockedUntil" datetime(3),
    "lastUsedStep" bigint,
    INDEX "twoFactor_secret_idx" ("secret"),
    -- One row per user (the upsert of setup relies on it).
    UNIQUE INDEX "twoFactor_userId_unique" ("userId"),
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE "user" ADD COLUMN "twoFactorEnabled" boolean DEFAULT false;
