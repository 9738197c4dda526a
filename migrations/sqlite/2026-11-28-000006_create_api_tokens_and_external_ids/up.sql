-- Named service tokens for integrators. Only a SHA-256 hash of the secret is kept. A token
-- acts as its creator, limited by its scope (read or provision), never beyond.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    corporation_code TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_created_by ON api_tokens (created_by);

-- An id the integrator's HR system owns, unique within a corporation.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_corporation_external_id_key ON users (corporation_code, external_id);
