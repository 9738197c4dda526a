-- People who sign in. email is stored normalised (trimmed, lower case); the unique index is
-- the backstop of rule 1, so that two simultaneous creates cannot both succeed.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    user_type TEXT NOT NULL,
    corporation_code TEXT REFERENCES corporations (code),
    contractor_id TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    job_title TEXT,
    phone TEXT,
    remarks TEXT,
    role TEXT NOT NULL,
    access TEXT NOT NULL,
    email_notifications TEXT NOT NULL,
    excel_download BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    -- Raised when a user's tokens must stop working at once (demotion, password change).
    token_version INTEGER NOT NULL DEFAULT 0,
    last_login_at TIMESTAMP,
    -- Optimistic concurrency: the ETag of the user, raised by every edit.
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_corporation_last_name ON users (corporation_code, last_name, id);
CREATE INDEX users_last_name ON users (last_name, id);
CREATE INDEX users_created_at ON users (created_at, id);

-- Append-only record of every change: who, when, what, which tenant. Ids are UUIDv7, so
-- their order is the order of events. No passwords, tokens, names or email addresses.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    corporation_code TEXT,
    changes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_corporation ON audit_events (corporation_code, id);
CREATE INDEX audit_events_target ON audit_events (target_id, id);

CREATE FUNCTION audit_events_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();

-- Failed sign-ins, per account and per client address, for throttling across instances.
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    throttle_key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key_time ON login_failures (throttle_key, failed_at);
CREATE INDEX login_failures_time ON login_failures (failed_at);
