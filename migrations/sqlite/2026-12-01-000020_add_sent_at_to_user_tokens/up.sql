-- When the mail server accepted the message carrying the link. The link keeps it because the
-- message itself is purged after RETENTION_SENT_MAIL_DAYS, while "Uitnodiging verzonden" is
-- shown for as long as the user exists.
ALTER TABLE user_tokens ADD COLUMN sent_at TIMESTAMP;
UPDATE user_tokens SET sent_at = (
    SELECT outbox_messages.sent_at FROM outbox_messages WHERE outbox_messages.id = user_tokens.outbox_message_id
);
-- The retention purge looks up links by the times they stopped mattering.
CREATE INDEX user_tokens_revoked ON user_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
