-- Better Auth 1.7's organization schema, as its MySQL adapter creates it:
-- organizations (a unique slug), their members (one row per user and
-- organization, with comma-separated roles) and invitations (bound to an email
-- address, pending until accepted, rejected or canceled, and expiring), and the
-- session's active organization. Deleting an organization deletes its members
-- and invitations; deleting a user deletes their memberships and the
-- invitations they sent. The tables come first: run again after a failure,
-- they are kept and the session's column is added.
CREATE TABLE IF NOT EXISTS "organization" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "name" text NOT NULL,
    "slug" varchar(255) NOT NULL,
    "logo" text,
    "createdAt" datetime(3) NOT NULL,
    "metadata" text,
    UNIQUE INDEX "organization_slug_unique" ("slug")
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS "member" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "organizationId" varchar(36) NOT NULL,
    "userId" varchar(36) NOT NULL,
    "role" text NOT NULL,
    "createdAt" datetime(3) NOT NULL,
    INDEX "member_organizationId_idx" ("organizationId"),
    INDEX "member_userId_idx" ("userId"),
    -- A user is a member of an organization once.
    UNIQUE INDEX "member_organizationId_userId_unique" ("organizationId", "userId"),
    FOREIGN KEY ("organizationId") REFERENCES "organization" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS "invitation" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "organizationId" varchar(36) NOT NULL,
    "email" varchar(255) NOT NULL,
    "role" text,
    "status" varchar(255) NOT NULL DEFAULT 'pending',
    "expiresAt" datetime(3) NOT NULL,
    "createdAt" datetime(3) NOT NULL,
    "inviterId" varchar(36) NOT NULL,
    INDEX "invitation_organizationId_idx" ("organizationId"),
    INDEX "invitation_email_idx" ("email"),
    FOREIGN KEY ("organizationId") REFERENCES "organization" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("inviterId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE "session" ADD COLUMN "activeOrganizationId" text;
