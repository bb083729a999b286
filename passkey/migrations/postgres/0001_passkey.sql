-- Better Auth 1.7's passkey schema: one row per registered credential, its
-- COSE public key (base64), the signature counter and what the authenticator
-- said of itself. A credential id is registered once (unique index, its own
-- name, so an index Better Auth made does not stand in for it).
CREATE TABLE IF NOT EXISTS "passkey" (
    "id" text NOT NULL PRIMARY KEY,
    "name" text,
    "publicKey" text NOT NULL,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "credentialID" text NOT NULL,
    "counter" integer NOT NULL,
    "deviceType" text NOT NULL,
    "backedUp" boolean NOT NULL,
    "transports" text,
    "createdAt" timestamptz,
    "aaguid" text
);
CREATE INDEX IF NOT EXISTS "passkey_userId_idx" ON "passkey" ("userId");
CREATE UNIQUE INDEX IF NOT EXISTS "passkey_credentialID_unique" ON "passkey" ("credentialID");
