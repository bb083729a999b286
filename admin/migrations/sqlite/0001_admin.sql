-- Better Auth 1.7's admin schema on the user: roles (comma-separated), and a
-- ban with its reason and end. (The session's "impersonatedBy" comes with
-- impersonation.)
ALTER TABLE "user" ADD COLUMN "role" text;
ALTER TABLE "user" ADD COLUMN "banned" integer DEFAULT 0;
ALTER TABLE "user" ADD COLUMN "banReason" text;
ALTER TABLE "user" ADD COLUMN "banExpires" date;
