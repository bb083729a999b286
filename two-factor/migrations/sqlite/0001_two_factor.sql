-- Better Auth 1.7's two-factor schema: the user's flag and one row per user
-- holding the authenticator secret (encrypted) and the backup codes (digests).
-- "lastUsedStep" is ours: the last TOTP time step accepted, so a code is used
-- at most once.
ALTER TABLE "user" ADD COLUMN "twoFactorEnabled" integer DEFAULT 0;

CREATE TABLE IF NOT EXISTS "twoFactor" (
    "id" text NOT NULL PRIMARY KEY,
    "secret" text NOT NULL,
    "backupCodes" text NOT NULL,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "verified" integer DEFAULT 1,
    "failedVerificationCount" integer DEFAULT 0,
    "lockedUntil" date,
    "lastUsedStep" bigint
);
CREATE INDEX IF NOT EXISTS "twoFactor_secret_idx" ON "twoFactor" ("secret");
-- One row per user (the upsert of setup relies on it); its own name, so an index
-- Better Auth made on "userId" does not stand in for it.
CREATE UNIQUE INDEX IF NOT EXISTS "twoFactor_userId_unique" ON "twoFactor" ("userId");
