-- Better Auth 1.7's admin schema on the session: the admin who made an
-- impersonation session (NULL on every other session).
ALTER TABLE "session" ADD COLUMN "impersonatedBy" text;
