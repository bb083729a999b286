-- The session cache's guards (SQLite).
--
-- `INSERT OR REPLACE` (and `REPLACE`) of a session or a user deletes the row it
-- replaces without firing delete triggers: it counts as a change here, before
-- the row goes.
--
-- Restoring an older copy of the database puts the change count back to a number
-- a server has seen, with other sessions behind it. Every new session also adds
-- one to `inserts`, and `epoch` names this database: a server that reads a count
-- or an insert count lower than it read before, or another epoch, drops
-- everything it cached.
ALTER TABLE "better_auth_session_changes" ADD COLUMN "inserts" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "better_auth_session_changes" ADD COLUMN "epoch" TEXT NOT NULL DEFAULT '';
UPDATE "better_auth_session_changes" SET "epoch" = lower(hex(randomblob(16))) WHERE "id" = 1;

CREATE TRIGGER "better_auth_session_replacing" BEFORE INSERT ON "session"
WHEN EXISTS (SELECT 1 FROM "session" WHERE "id" = NEW."id" OR "token" = NEW."token")
BEGIN
  UPDATE "better_auth_session_changes" SET "count" = "count" + 1 WHERE "id" = 1;
END;

CREATE TRIGGER "better_auth_user_replacing" BEFORE INSERT ON "user"
WHEN EXISTS (SELECT 1 FROM "user" WHERE "id" = NEW."id" OR "email" = NEW."email")
BEGIN
  UPDATE "better_auth_session_changes" SET "count" = "count" + 1 WHERE "id" = 1;
END;

CREATE TRIGGER "better_auth_session_inserted" AFTER INSERT ON "session"
BEGIN
  UPDATE "better_auth_session_changes" SET "inserts" = "inserts" + 1 WHERE "id" = 1;
END;
