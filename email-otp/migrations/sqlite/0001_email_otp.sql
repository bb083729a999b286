-- Codes sent by email (sign-in, email verification, password reset): one per
-- purpose and address, stored as a digest of its HMAC under the app's secret,
-- with its failed attempts.
CREATE TABLE IF NOT EXISTS "emailOtp" (
    "identifier" text NOT NULL PRIMARY KEY,
    "codeHash" text NOT NULL,
    "attempts" integer NOT NULL DEFAULT 0,
    "expiresAt" date NOT NULL
);
