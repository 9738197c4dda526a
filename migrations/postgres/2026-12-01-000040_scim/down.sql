ALTER TABLE users DROP COLUMN display_name;
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_corporation_code_fkey;
ALTER TABLE api_tokens DROP COLUMN invites_new_users;
