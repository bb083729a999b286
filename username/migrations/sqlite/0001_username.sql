-- Better Auth 1.7's username schema: the normalised (lower-case) username,
-- unique, and the username as its owner typed it.
ALTER TABLE "user" ADD COLUMN "username" text;
ALTER TABLE "user" ADD COLUMN "displayUsername" text;
CREATE UNIQUE INDEX IF NOT EXISTS "user_username_unique" ON "user" ("username");
