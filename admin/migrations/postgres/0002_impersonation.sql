-- Better Auth 1.7's admin schema on the session: the admin who made an
-- impersonation session (NULL on every other session). A database where
-- Better Auth (TypeScript) added it keeps its column.
ALTER TABLE "session" ADD COLUMN IF NOT EXISTS "impersonatedBy" text;
