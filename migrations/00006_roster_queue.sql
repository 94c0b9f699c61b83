-- +goose Up
-- Roster solves wait in a queue (scheduling/plan), and the rosters table is the queue. A new roster is
-- 'queued' with the parameters of its solve, so that any node can run it; a node with a free solve slot
-- claims the oldest queued roster of an office that has no solve running (FOR UPDATE SKIP LOCKED, under
-- one advisory lock that orders the claims) and makes it 'solving' under its lease (solving_until).
ALTER TABLE rosters DROP CONSTRAINT rosters_status_check;
ALTER TABLE rosters ADD CONSTRAINT rosters_status_check
    CHECK (status IN ('queued', 'solving', 'draft', 'published', 'superseded', 'failed'));
ALTER TABLE rosters
    ADD COLUMN time_limit_ms integer CHECK (time_limit_ms > 0), -- the solve's time limit
    ADD COLUMN seed          bigint;                             -- the solve's seed (a uint64's bits)
-- The queue in order: the claim and the queue positions read it.
CREATE INDEX rosters_queue ON rosters (created_at, id) WHERE status = 'queued';

-- +goose Down
UPDATE rosters SET status = 'failed', error = 'the queue was removed' WHERE status = 'queued';
DROP INDEX rosters_queue;
ALTER TABLE rosters DROP COLUMN time_limit_ms, DROP COLUMN seed;
ALTER TABLE rosters DROP CONSTRAINT rosters_status_check;
ALTER TABLE rosters ADD CONSTRAINT rosters_status_check
    CHECK (status IN ('solving', 'draft', 'published', 'superseded', 'failed'));
