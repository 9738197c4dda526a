DROP TABLE login_failures;
DROP TRIGGER audit_events_append_only ON audit_events;
DROP FUNCTION audit_events_are_append_only();
DROP TABLE audit_events;
DROP TABLE users;
