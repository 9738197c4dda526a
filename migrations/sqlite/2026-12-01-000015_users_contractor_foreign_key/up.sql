-- A contractor user belongs to an existing contractor. Without this key a contractor deleted
-- while a user was created for it could leave that user behind (issue #12). ON DELETE CASCADE
-- keeps what DELETE /contractors promises ("removes its users too") even for a user the
-- deleting transaction did not see; the service still deletes the users it sees itself, with
-- their messages and the audit event.
--
-- SQLite cannot add a constraint to a table: the table is rebuilt by the procedure of
-- https://www.sqlite.org/lang_altertable.html#otheralter. This runs outside a transaction
-- (metadata.toml), because foreign keys can only be switched off outside one, and they must
-- be: with them on, DROP TABLE users would delete every user's links and service tokens by
-- cascade.

-- Users left behind before this key existed are removed first, while foreign keys are still
-- on, as their contractor's deletion would have done: their messages (which hold their
-- address), then the users (their links and service tokens go by cascade).
DELETE FROM outbox_messages
WHERE user_id IN (
    SELECT u.id FROM users u
    WHERE u.contractor_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM contractors c WHERE c.id = u.contractor_id)
);
DELETE FROM users
WHERE contractor_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM contractors c WHERE c.id = users.contractor_id);

PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE users_new (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    user_type TEXT NOT NULL,
    corporation_code TEXT REFERENCES corporations (code),
    contractor_id TEXT REFERENCES contractors (id) ON DELETE CASCADE,
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
    -- Raised when a user's tokens must stop working at once (demotion, password change).
    token_version INTEGER NOT NULL DEFAULT 0,
    last_login_at TIMESTAMP,
    -- Optimistic concurrency: the ETag of the user, raised by every edit.
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- An id the integrator's HR system owns, unique within a corporation.
    external_id TEXT
);
INSERT INTO users_new (
    id, email, user_type, corporation_code, contractor_id, first_name, last_name, job_title,
    phone, remarks, role, access, email_notifications, excel_download, password_hash,
    token_version, last_login_at, version, created_at, updated_at, external_id
)
SELECT
    id, email, user_type, corporation_code, contractor_id, first_name, last_name, job_title,
    phone, remarks, role, access, email_notifications, excel_download, password_hash,
    token_version, last_login_at, version, created_at, updated_at, external_id
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

-- Every index users had (migrations 000002 and 000006), and the one the cascade uses.
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_corporation_last_name ON users (corporation_code, last_name, id);
CREATE INDEX users_last_name ON users (last_name, id);
CREATE INDEX users_created_at ON users (created_at, id);
CREATE UNIQUE INDEX users_corporation_external_id_key ON users (corporation_code, external_id);
CREATE INDEX users_contractor ON users (contractor_id);

-- PRAGMA foreign_key_check only reports; a row it reports fails this CHECK and so the
-- migration, which then leaves the old table in place.
CREATE TEMP TABLE users_foreign_key_check (violations INTEGER NOT NULL CHECK (violations = 0));
INSERT INTO users_foreign_key_check SELECT count(*) FROM pragma_foreign_key_check('users');
DROP TABLE users_foreign_key_check;

COMMIT;
PRAGMA foreign_keys = ON;
