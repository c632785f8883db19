-- Idempotency-Key on every POST, PUT and DELETE under /api/v1. The server
-- reserves a key (status 0, empty response) before the request runs, then
-- records the answer: its status, content type and body ('text' as is, 'hex'
-- when the body is not UTF-8); a refused request releases the key. Rows that
-- the case handlers write in the same job as their effect keep status 200
-- and a NULL content type. Keys are deleted after the retention (24 hours by
-- default), which the index on created_at keeps cheap.
-- Keep the other dialect's file in step with this one.
ALTER TABLE idempotency_keys ADD COLUMN content_type TEXT;
ALTER TABLE idempotency_keys ADD COLUMN body_encoding TEXT NOT NULL DEFAULT 'text';
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
