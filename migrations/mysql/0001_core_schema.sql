-- Better Auth core schema (user, session, account, verification), as Better Auth's
-- Kysely adapter creates it for MySQL: ids and references varchar(36), unique and
-- indexed text varchar(255) (MySQL indexes no unbounded text), other text `text`,
-- times datetime(3) in UTC, booleans `boolean` (tinyint(1)).
-- Runs with ANSI_QUOTES (double quotes quote identifiers). Text compares exactly
-- (utf8mb4_bin: case and accents count, as in SQLite and PostgreSQL), so a provider
-- account id or an address never matches another that differs only in case.
CREATE TABLE IF NOT EXISTS "user" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "name" text NOT NULL,
    "email" varchar(255) NOT NULL UNIQUE,
    "emailVerified" boolean NOT NULL DEFAULT false,
    "image" text,
    "createdAt" datetime(3) NOT NULL,
    "updatedAt" datetime(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS "session" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "expiresAt" datetime(3) NOT NULL,
    "token" varchar(255) NOT NULL UNIQUE,
    "createdAt" datetime(3) NOT NULL,
    "updatedAt" datetime(3) NOT NULL,
    "ipAddress" text,
    "userAgent" text,
    "userId" varchar(36) NOT NULL,
    INDEX "session_userId_idx" ("userId"),
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS "account" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "accountId" varchar(255) NOT NULL,
    "providerId" varchar(255) NOT NULL,
    "userId" varchar(36) NOT NULL,
    "accessToken" text,
    "refreshToken" text,
    "idToken" text,
    "accessTokenExpiresAt" datetime(3),
    "refreshTokenExpiresAt" datetime(3),
    "scope" text,
    "password" text,
    "createdAt" datetime(3) NOT NULL,
    "updatedAt" datetime(3) NOT NULL,
    INDEX "account_userId_idx" ("userId"),
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS "verification" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "identifier" varchar(255) NOT NULL,
    "value" text NOT NULL,
    "expiresAt" datetime(3) NOT NULL,
    "createdAt" datetime(3) NOT NULL,
    "updatedAt" datetime(3) NOT NULL,
    INDEX "verification_identifier_idx" ("identifier")
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
