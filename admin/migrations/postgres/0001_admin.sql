-- Better Auth 1.7's admin schema on the user: roles (comma-separated), and a
-- ban with its reason and end. A database where Better Auth (TypeScript) added
-- them keeps its columns.
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "role" text;
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "banned" boolean DEFAULT false;
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "banReason" text;
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "banExpires" timestamptz;
