DROP INDEX users_corporation_external_id_key;
ALTER TABLE users DROP COLUMN external_id;
DROP TABLE api_tokens;
