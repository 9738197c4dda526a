-- Issue #14: a `scim` service token is bound to one corporation (the one its identity provider
-- provisions), and may be told not to mail an invitation to the users it creates (for an
-- association that will sign in through single sign-on). The binding was a bare column: it
-- now points at the corporation it names. SQLite adds a foreign key only by rebuilding the table.
CREATE TABLE api_tokens_new (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    corporation_code TEXT REFERENCES corporations (code) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    creator_token_version INTEGER NOT NULL DEFAULT 0,
    invites_new_users BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO api_tokens_new (id, name, token_hash, scope, created_by, corporation_code, created_at,
        expires_at, last_used_at, revoked_at, creator_token_version)
    SELECT id, name, token_hash, scope, created_by, corporation_code, created_at, expires_at,
        last_used_at, revoked_at, creator_token_version
    FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_created_by ON api_tokens (created_by);

-- The name an identity provider shows for the user (SCIM `displayName`), kept as it sends it.
ALTER TABLE users ADD COLUMN display_name TEXT;
