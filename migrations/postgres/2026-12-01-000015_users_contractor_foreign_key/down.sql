ALTER TABLE users DROP CONSTRAINT users_contractor_id_fkey;
DROP INDEX users_contractor;
