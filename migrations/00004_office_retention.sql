-- +goose Up
-- How long personal data is kept is the office's setting (ticketing owns offices), no longer a planning one.
ALTER TABLE offices ADD COLUMN retention_days integer NOT NULL DEFAULT 90 CHECK (retention_days BETWEEN 1 AND 3650);
UPDATE offices o SET retention_days = p.retention_days FROM planning_settings p WHERE p.office_id = o.id;
ALTER TABLE planning_settings DROP COLUMN retention_days;

-- +goose Down
ALTER TABLE planning_settings ADD COLUMN retention_days integer NOT NULL DEFAULT 90 CHECK (retention_days >= 1);
UPDATE planning_settings p SET retention_days = o.retention_days FROM offices o WHERE p.office_id = o.id;
ALTER TABLE offices DROP COLUMN retention_days;
