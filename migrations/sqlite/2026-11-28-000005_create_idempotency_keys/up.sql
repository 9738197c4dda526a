-- The first answer to a POST with an Idempotency-Key, per actor and key, for 24 hours: a retry
-- with the same key and body gets it again instead of acting twice. status_code is NULL while
-- the first request is still being handled.
CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER,
    response_headers TEXT,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor, idempotency_key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
