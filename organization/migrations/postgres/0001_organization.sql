-- Better Auth 1.7's organization schema: organizations (a unique slug),
-- their members (one row per user and organization, with comma-separated
-- roles) and invitations (bound to an email address, pending until accepted,
-- rejected or canceled, and expiring), and the session's active organization.
-- Deleting an organization deletes its members and invitations; deleting a
-- user deletes their memberships and the invitations they sent. A database where
-- Better Auth (TypeScript) made them keeps its tables and column.
CREATE TABLE IF NOT EXISTS "organization" (
    "id" text NOT NULL PRIMARY KEY,
    "name" text NOT NULL,
    "slug" text NOT NULL,
    "logo" text,
    "createdAt" timestamptz NOT NULL,
    "metadata" text
);
CREATE UNIQUE INDEX IF NOT EXISTS "organization_slug_unique" ON "organization" ("slug");
CREATE TABLE IF NOT EXISTS "member" (
    "id" text NOT NULL PRIMARY KEY,
    "organizationId" text NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "role" text NOT NULL,
    "createdAt" timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS "member_organizationId_idx" ON "member" ("organizationId");
CREATE INDEX IF NOT EXISTS "member_userId_idx" ON "member" ("userId");
-- A user is a member of an organization once.
CREATE UNIQUE INDEX IF NOT EXISTS "member_organizationId_userId_unique" ON "member" ("organizationId", "userId");
CREATE TABLE IF NOT EXISTS "invitation" (
    "id" text NOT NULL PRIMARY KEY,
    "organizationId" text NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "email" text NOT NULL,
    "role" text,
    "status" text NOT NULL DEFAULT 'pending',
    "expiresAt" timestamptz NOT NULL,
    "createdAt" timestamptz NOT NULL,
    "inviterId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "invitation_organizationId_idx" ON "invitation" ("organizationId");
CREATE INDEX IF NOT EXISTS "invitation_email_idx" ON "invitation" ("email");
ALTER TABLE "session" ADD COLUMN IF NOT EXISTS "activeOrganizationId" text;
