PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE users_old (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    user_type TEXT NOT NULL,
    corporation_code TEXT REFERENCES corporations (code),
    contractor_id TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    job_title TEXT,
    phone TEXT,
    remarks TEXT,
    role TEXT NOT NULL,
    access TEXT NOT NULL,
    email_notifications TEXT NOT NULL,
    excel_download BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    token_version INTEGER NOT NULL DEFAULT 0,
    last_login_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    external_id TEXT
);
INSERT INTO users_old SELECT
    id, email, user_type, corporation_code, contractor_id, first_name, last_name, job_title,
    phone, remarks, role, access, email_notifications, excel_download, password_hash,
    token_version, last_login_at, version, created_at, updated_at, external_id
FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_corporation_last_name ON users (corporation_code, last_name, id);
CREATE INDEX users_last_name ON users (last_name, id);
CREATE INDEX users_created_at ON users (created_at, id);
CREATE UNIQUE INDEX users_corporation_external_id_key ON users (corporation_code, external_id);
COMMIT;
PRAGMA foreign_keys = ON;
