-- Change notifications for the session cache: any update or delete of a session
-- or a user (by Better Auth, the CLI, another server or a raw SQL client)
-- notifies `better_auth_changes` when its transaction commits. Every server
-- listening drops what its session cache holds before its next request.
CREATE OR REPLACE FUNCTION "better_auth_notify_change"() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('better_auth_changes', TG_TABLE_NAME);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "better_auth_session_changed"
  AFTER UPDATE OR DELETE OR TRUNCATE ON "session"
  FOR EACH STATEMENT EXECUTE FUNCTION "better_auth_notify_change"();

CREATE TRIGGER "better_auth_user_changed"
  AFTER UPDATE OR DELETE OR TRUNCATE ON "user"
  FOR EACH STATEMENT EXECUTE FUNCTION "better_auth_notify_change"();
