-- Better Auth 1.7's username schema: the normalised (lower-case) username,
-- unique, and the username as its owner typed it. A database where Better
-- Auth (TypeScript) added them already keeps its columns.
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "username" text;
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "displayUsername" text;
CREATE UNIQUE INDEX IF NOT EXISTS "user_username_unique" ON "user" ("username");
