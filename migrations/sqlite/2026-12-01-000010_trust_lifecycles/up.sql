-- Sign-in failures know their account, so that a reset or an accepted invitation clears them
-- (SECURITY.md, "Sign-in throttling").
ALTER TABLE login_failures ADD COLUMN account TEXT;
CREATE INDEX login_failures_account ON login_failures (account);

-- Addresses an account signed in from lately: their attempts are never refused because of
-- other accounts' failures from the same address (an office behind one address).
CREATE TABLE sign_in_clients (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client TEXT NOT NULL,
    last_success_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, client)
);

-- A service token works only while its creator's sessions do: whatever raises the creator's
-- token version (a role change, a new password) ends their service tokens too.
ALTER TABLE api_tokens ADD COLUMN creator_token_version INTEGER NOT NULL DEFAULT 0;
UPDATE api_tokens SET creator_token_version =
    (SELECT users.token_version FROM users WHERE users.id = api_tokens.created_by);

-- A stored answer belongs to a user (the caller, or the creator of the calling service token)
-- and is deleted with them; claim_id says which request may complete a claimed key.
-- Earlier answers had no owner and could hold secrets: they go (they lived 24 hours anyway).
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys ADD COLUMN user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE idempotency_keys ADD COLUMN claim_id TEXT;
CREATE INDEX idempotency_keys_user ON idempotency_keys (user_id);
