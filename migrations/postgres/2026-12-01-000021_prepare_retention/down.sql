DROP INDEX outbox_messages_sent;
DROP INDEX outbox_messages_failed;
DROP INDEX outbox_messages_cancelled;
DROP INDEX audit_events_at;
CREATE OR REPLACE FUNCTION audit_events_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TABLE audit_retention;
