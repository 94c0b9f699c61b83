-- +goose Up
-- An Idempotency-Key belongs to its issuer (a kiosk or a staff member), not to the whole office, and a
-- replay must carry the same request: request_hash fingerprints the issue request it was first used with.
ALTER TABLE tickets ADD COLUMN request_hash bytea;
DROP INDEX tickets_idempotency;
CREATE UNIQUE INDEX tickets_idempotency ON tickets
    (office_id, coalesce(issued_by_device, 0), coalesce(issued_by_user, 0), idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX tickets_idempotency;
CREATE UNIQUE INDEX tickets_idempotency ON tickets (office_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
ALTER TABLE tickets DROP COLUMN request_hash;
