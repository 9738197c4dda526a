-- The retention purge finds rows past their period by these times without reading the tables.
CREATE INDEX outbox_messages_sent ON outbox_messages (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_messages_failed ON outbox_messages (failed_at) WHERE failed_at IS NOT NULL;
CREATE INDEX outbox_messages_cancelled ON outbox_messages (cancelled_at) WHERE cancelled_at IS NOT NULL;
CREATE INDEX audit_events_at ON audit_events (at);
