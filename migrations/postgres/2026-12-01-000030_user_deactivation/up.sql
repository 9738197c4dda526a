-- When the user was deactivated (issue #14): kept, with their audit history, but unable to sign
-- in, every credential ended. NULL is an active user; reactivation clears it.
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMP;
