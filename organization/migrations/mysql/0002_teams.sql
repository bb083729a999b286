-- Better Auth 1.7's teams (the organization plugin's `teams` option), as its
-- MySQL adapter creates them: teams of an organization and their members
-- (users who are members of the organization), the teams an invitation adds
-- its user to (comma-separated ids), and the session's active team. The tables
-- are made whether or not teams are turned on; deleting an organization or a
-- team deletes its teams' memberships. The tables come first: run again after
-- a failure, they are kept and the columns are added.
CREATE TABLE IF NOT EXISTS "team" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "name" text NOT NULL,
    "organizationId" varchar(36) NOT NULL,
    "createdAt" datetime(3) NOT NULL,
    "updatedAt" datetime(3),
    "memberCount" integer NOT NULL DEFAULT 0,
    INDEX "team_organizationId_idx" ("organizationId"),
    FOREIGN KEY ("organizationId") REFERENCES "organization" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS "teamMember" (
    "id" varchar(36) NOT NULL PRIMARY KEY,
    "teamId" varchar(36) NOT NULL,
    "userId" varchar(36) NOT NULL,
    "createdAt" datetime(3),
    INDEX "teamMember_teamId_idx" ("teamId"),
    INDEX "teamMember_userId_idx" ("userId"),
    -- A user is a member of a team once.
    UNIQUE INDEX "teamMember_teamId_userId_unique" ("teamId", "userId"),
    FOREIGN KEY ("teamId") REFERENCES "team" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE "invitation" ADD COLUMN "teamId" text;
ALTER TABLE "session" ADD COLUMN "activeTeamId" text;
