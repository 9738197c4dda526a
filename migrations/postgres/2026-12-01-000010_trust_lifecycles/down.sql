DROP INDEX idempotency_keys_user;
ALTER TABLE idempotency_keys DROP COLUMN claim_id;
ALTER TABLE idempotency_keys DROP COLUMN user_id;
ALTER TABLE api_tokens DROP COLUMN creator_token_version;
DROP TABLE sign_in_clients;
DROP INDEX login_failures_account;
ALTER TABLE login_failures DROP COLUMN account;
