DROP INDEX outbox_messages_sent;
DROP INDEX outbox_messages_failed;
DROP INDEX outbox_messages_cancelled;
DROP INDEX audit_events_at;
