DROP INDEX user_tokens_revoked;
ALTER TABLE user_tokens DROP COLUMN sent_at;
