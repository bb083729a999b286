-- Better Auth 1.7's passkey schema, as its MySQL adapter creates it: one row
-- per registered credential, its COSE public key (base64), the signature
-- counter and what the authenticator said of itself. A credential id is
-- registered once (unique index). Credential ids are up to 1023 bytes, 1364
-- characters of base64url: ASCII, so the unique index holds them whole.
CREATE TABLE IF NOT EXISTS "passkey" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "name" text,
    "publicKey" text NOT NULL,
    "userId" varchar(36) NOT NULL,
    "credentialID" varchar(1364) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    "counter" integer NOT NULL,
    "deviceType" text NOT NULL,
    "backedUp" boolean NOT NULL,
    "transports" text,
    "createdAt" datetime(3),
    "aaguid" text,
    INDEX "passkey_userId_idx" ("userId"),
    UNIQUE INDEX "passkey_credentialID_unique" ("credentialID"),
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
