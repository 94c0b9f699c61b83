-- +goose Up
-- Roster planning (scheduling/plan): per-staff iCalendar feed tokens and the solve deadline.

-- The feed URL carries a random token; only its SHA-256 is stored, so the URL is shown once when the
-- token is (re)issued and a leaked database does not reveal anyone's calendar.
CREATE TABLE staff_feed_tokens (
    staff_id   bigint PRIMARY KEY REFERENCES staff ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A solve runs in one node's goroutine, which renews this lease while it lives; a roster still 'solving'
-- past its lease was left behind by a node that stopped, and any node marks it failed.
ALTER TABLE rosters ADD COLUMN solving_until timestamptz;

-- A change may keep the template and move the person to another skill group: both are listed.
ALTER TABLE roster_changes ADD COLUMN before_group text, ADD COLUMN after_group text;

-- +goose Down
ALTER TABLE roster_changes DROP COLUMN before_group, DROP COLUMN after_group;
ALTER TABLE rosters DROP COLUMN solving_until;
DROP TABLE staff_feed_tokens;
