-- Codes sent by email (sign-in, email verification, password reset): one per
-- purpose and address, stored as a digest of its HMAC under the app's secret,
-- with its failed attempts. The identifier is the purpose and the address (up
-- to 254 bytes), so its key is longer than the usual varchar(255).
CREATE TABLE IF NOT EXISTS "emailOtp" (
    "identifier" varchar(320) NOT NULL PRIMARY KEY,
    "codeHash" text NOT NULL,
    "attempts" integer NOT NULL DEFAULT 0,
    "expiresAt" datetime(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
