ALTER TABLE outbox_messages DROP COLUMN delivery_error;
