-- Codes sent by email for a second factor: one per pending sign-in (or signed-in
-- session), stored as an HMAC under the app's secret, with its failed attempts.
CREATE TABLE IF NOT EXISTS "twoFactorOtp" (
    "key" text NOT NULL PRIMARY KEY,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "codeHash" text NOT NULL,
    "attempts" integer NOT NULL DEFAULT 0,
    "expiresAt" date NOT NULL
);
