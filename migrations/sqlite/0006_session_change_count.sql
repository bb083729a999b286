-- The session cache's change counter (SQLite). Any update or delete of a
-- session or a user (by Better Auth, the CLI, another server or a raw SQL
-- client) adds one to it in the same transaction. A server answers a session
-- from its in-process cache only while this number is the one it saw when it
-- read the session, so a revocation anywhere is seen by the next request,
-- while commits that cannot make a cached session stale (new sessions from
-- sign-ins, the app's own tables) leave the cache alone.
CREATE TABLE "better_auth_session_changes" (
  "id" INTEGER PRIMARY KEY CHECK ("id" = 1),
  "count" INTEGER NOT NULL
);
INSERT INTO "better_auth_session_changes" ("id", "count") VALUES (1, 0);

CREATE TRIGGER "better_auth_session_updated" AFTER UPDATE ON "session"
BEGIN
  UPDATE "better_auth_session_changes" SET "count" = "count" + 1 WHERE "id" = 1;
END;

CREATE TRIGGER "better_auth_session_deleted" AFTER DELETE ON "session"
BEGIN
  UPDATE "better_auth_session_changes" SET "count" = "count" + 1 WHERE "id" = 1;
END;

CREATE TRIGGER "better_auth_user_updated" AFTER UPDATE ON "user"
BEGIN
  UPDATE "better_auth_session_changes" SET "count" = "count" + 1 WHERE "id" = 1;
END;

CREATE TRIGGER "better_auth_user_deleted" AFTER DELETE ON "user"
BEGIN
  UPDATE "better_auth_session_changes" SET "count" = "count" + 1 WHERE "id" = 1;
END;
