ALTER TABLE users DROP COLUMN display_name;
CREATE TABLE api_tokens_old (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    corporation_code TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    creator_token_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO api_tokens_old SELECT id, name, token_hash, scope, created_by, corporation_code,
    created_at, expires_at, last_used_at, revoked_at, creator_token_version FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_old RENAME TO api_tokens;
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_created_by ON api_tokens (created_by);
