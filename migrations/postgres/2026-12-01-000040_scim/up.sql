-- Issue #14: a `scim` service token is bound to one corporation (the one its identity provider
-- provisions), and may be told not to mail an invitation to the users it creates (for an
-- association that will sign in through single sign-on). The binding was a bare column: it
-- now points at the corporation it names.
ALTER TABLE api_tokens ADD COLUMN invites_new_users BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_corporation_code_fkey
    FOREIGN KEY (corporation_code) REFERENCES corporations (code) ON DELETE CASCADE;

-- The name an identity provider shows for the user (SCIM `displayName`), kept as it sends it.
ALTER TABLE users ADD COLUMN display_name TEXT;
