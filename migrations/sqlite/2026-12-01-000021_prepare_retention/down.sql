DROP INDEX outbox_messages_sent;
DROP INDEX outbox_messages_failed;
DROP INDEX outbox_messages_cancelled;
DROP INDEX audit_events_at;
DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
DROP TABLE audit_retention;
