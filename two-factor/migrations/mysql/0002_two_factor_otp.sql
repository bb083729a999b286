-- Codes sent by email for a second factor: one per pending sign-in (or signed-in
-- session), stored as an HMAC under the app's secret, with its failed attempts.
CREATE TABLE IF NOT EXISTS "twoFactorOtp" (
    "key" varchar(255) NOT NULL PRIMARY KEY,
    "userId" varchar(36) NOT NULL,
    "codeHash" text NOT NULL,
    "attempts" integer NOT NULL DEFAULT 0,
    "expiresAt" datetime(3) NOT NULL,
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
