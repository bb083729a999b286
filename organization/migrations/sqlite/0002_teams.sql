-- Better Auth 1.7's teams (the organization plugin's `teams` option): teams
-- of an organization and their members (users who are members of the
-- organization), the teams an invitation adds its user to (comma-separated
-- ids), and the session's active team. The tables are made whether or not
-- teams are turned on; deleting an organization or a team deletes its teams'
-- memberships.
CREATE TABLE IF NOT EXISTS "team" (
    "id" text NOT NULL PRIMARY KEY,
    "name" text NOT NULL,
    "organizationId" text NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "createdAt" date NOT NULL,
    "updatedAt" date,
    "memberCount" integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS "team_organizationId_idx" ON "team" ("organizationId");
CREATE TABLE IF NOT EXISTS "teamMember" (
    "id" text NOT NULL PRIMARY KEY,
    "teamId" text NOT NULL REFERENCES "team" ("id") ON DELETE CASCADE,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "createdAt" date
);
CREATE INDEX IF NOT EXISTS "teamMember_teamId_idx" ON "teamMember" ("teamId");
CREATE INDEX IF NOT EXISTS "teamMember_userId_idx" ON "teamMember" ("userId");
-- A user is a member of a team once.
CREATE UNIQUE INDEX IF NOT EXISTS "teamMember_teamId_userId_unique" ON "teamMember" ("teamId", "userId");
ALTER TABLE "invitation" ADD COLUMN "teamId" text;
ALTER TABLE "session" ADD COLUMN "activeTeamId" text;
