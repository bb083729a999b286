-- The session cache's guards (PostgreSQL). The change triggers of migration 4
-- fire whatever a session's `session_replication_role` is: a client that sets it
-- to `replica` can no longer update or delete sessions unheard. Servers check
-- that both triggers are enabled this way before they cache anything, and every
-- second after.
ALTER TABLE "session" ENABLE ALWAYS TRIGGER "better_auth_session_changed";
ALTER TABLE "user" ENABLE ALWAYS TRIGGER "better_auth_user_changed";
