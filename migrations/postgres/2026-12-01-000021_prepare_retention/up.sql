-- The retention purge finds rows past their period by these times without reading the tables.
CREATE INDEX outbox_messages_sent ON outbox_messages (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_messages_failed ON outbox_messages (failed_at) WHERE failed_at IS NOT NULL;
CREATE INDEX outbox_messages_cancelled ON outbox_messages (cancelled_at) WHERE cancelled_at IS NOT NULL;
CREATE INDEX audit_events_at ON audit_events (at);

-- The audit log stays append-only, except for the retention KWH configures
-- (RETENTION_AUDIT_DAYS): an event can be deleted only when it is older than the cutoff the
-- purge records here in the same transaction. No update is ever allowed.
CREATE TABLE audit_retention (
    id INTEGER PRIMARY KEY NOT NULL,
    cutoff TIMESTAMP NOT NULL
);
INSERT INTO audit_retention (id, cutoff) VALUES (1, '1970-01-01 00:00:00');
CREATE OR REPLACE FUNCTION audit_events_are_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < (SELECT MAX(cutoff) FROM audit_retention) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
