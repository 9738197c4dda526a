-- The class of last_error (mailbox_unavailable, rejected, temporary_failure, configuration),
-- recorded with it: main users see the class, only KWH staff the mail server's own text.
-- Attempts that failed before this column existed keep NULL here.
ALTER TABLE outbox_messages ADD COLUMN delivery_error TEXT;
