-- Better Auth 1.7's admin schema on the user, as its MySQL adapter creates it:
-- roles (comma-separated), and a ban with its reason and end. One statement,
-- so it applies whole or not at all.
ALTER TABLE "user"
  ADD COLUMN "role" text,
  ADD COLUMN "banned" boolean DEFAULT false,
  ADD COLUMN "banReason" text,
  ADD COLUMN "banExpires" datetime(3);
