-- A contractor user belongs to an existing contractor. Without this key a contractor deleted
-- while a user was created for it could leave that user behind (issue #12). ON DELETE CASCADE
-- keeps what DELETE /contractors promises ("removes its users too") even for a user the
-- deleting transaction did not see; the service still deletes the users it sees itself, with
-- their messages and the audit event.
--
-- Users left behind before this key existed are removed first, as their contractor's deletion
-- would have done: their messages (which hold their address), then the users (their links
-- and service tokens go by cascade).
DELETE FROM outbox_messages
WHERE user_id IN (
    SELECT u.id FROM users u
    WHERE u.contractor_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM contractors c WHERE c.id = u.contractor_id)
);
DELETE FROM users u
WHERE u.contractor_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM contractors c WHERE c.id = u.contractor_id);

-- The cascade and the contractor's user list look users up by contractor.
CREATE INDEX users_contractor ON users (contractor_id);
ALTER TABLE users
    ADD CONSTRAINT users_contractor_id_fkey
    FOREIGN KEY (contractor_id) REFERENCES contractors (id) ON DELETE CASCADE;
