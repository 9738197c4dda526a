-- Email to send, written in the same transaction as the change that causes it (the
-- transactional outbox). payload holds what the template needs and never a secret: links are
-- minted when the message is sent, so plaintext tokens never reach the database.
CREATE TABLE outbox_messages (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    -- The Message-ID header: the same on every attempt, so a retry is recognisable.
    message_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    -- An instance that took the message; others leave it until claimed_until passes.
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    sent_at TIMESTAMP,
    failed_at TIMESTAMP,
    cancelled_at TIMESTAMP
);
CREATE INDEX outbox_messages_due ON outbox_messages (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX outbox_messages_user ON outbox_messages (user_id);

-- Single-use links (invitations, password resets). Only a SHA-256 hash of the token is kept;
-- it is NULL until the message carrying the link is handed to the mail server.
CREATE TABLE user_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT,
    outbox_message_id TEXT,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX user_tokens_token_hash_key ON user_tokens (token_hash);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose, created_at);
