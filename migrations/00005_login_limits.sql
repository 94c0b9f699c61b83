-- +goose Up
-- Users belong to an office, unless they are administrators created explicitly for every office. Before,
-- a user without an office silently managed every office: the administrators without an office become
-- administrators of every office (all_offices). Managers and operators without an office, if any, manage
-- and work in no office from now on: they can still sign in but see nothing. The rule that a user without
-- an office is an administrator of every office is not checked on their existing rows (NOT VALID), but
-- any change to such a row must satisfy it: give them an office or delete them, e.g.
--     UPDATE users SET office_id = (SELECT id FROM offices WHERE slug = 'centro') WHERE username = 'mario';
-- after which ALTER TABLE users VALIDATE CONSTRAINT users_office_or_all_offices; checks every row.
-- Deleting an office that still has users now fails instead of leaving them without an office.
ALTER TABLE users ADD COLUMN all_offices boolean NOT NULL DEFAULT false;
UPDATE users SET all_offices = true WHERE role = 'admin' AND office_id IS NULL;
ALTER TABLE users ADD CONSTRAINT users_all_offices_admin CHECK (NOT all_offices OR (role = 'admin' AND office_id IS NULL));
ALTER TABLE users ADD CONSTRAINT users_office_or_all_offices CHECK (office_id IS NOT NULL OR all_offices) NOT VALID;

-- The last successful sign-in, shown to the office's managers.
ALTER TABLE users ADD COLUMN last_login_at timestamptz;

-- Failed sign-ins, counted per normalised username ("user:<name>") and per client address ("ip:<address>",
-- an IPv6 client's /64), shared by every node: internal/auth's login limits (auth.DefaultLoginLimits).
-- A row is written when an attempt is let through (counted as a failure until its password proves right)
-- and deleted when a username signs in or a manager unlocks it.
CREATE TABLE login_failures (
    key             text PRIMARY KEY CHECK (length(key) <= 80),
    failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0), -- in a row, since the last lock or success
    last_failure_at timestamptz NOT NULL,
    locked_until    timestamptz,                                      -- a username's lock
    locks           integer NOT NULL DEFAULT 0 CHECK (locks >= 0)     -- locks since the failures were last forgotten
);

-- +goose Down
DROP TABLE login_failures;
ALTER TABLE users DROP COLUMN last_login_at;
ALTER TABLE users DROP CONSTRAINT users_office_or_all_offices;
ALTER TABLE users DROP CONSTRAINT users_all_offices_admin;
ALTER TABLE users DROP COLUMN all_offices;
