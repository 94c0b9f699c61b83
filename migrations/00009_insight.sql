-- +goose Up
-- Insight: the rollups reports read (one row per finished visit, one per served segment, operator time per
-- slot), citizen feedback, per-agency accounting terms, the staff-figures privacy setting, the feedback
-- tablet device kind, and other installations' benchmark exports. See docs/kpis.md for the definitions.

-- A recall overwrites called_at; the wait ends at the first call, so it is kept.
ALTER TABLE tickets ADD COLUMN first_called_at timestamptz;
UPDATE tickets SET first_called_at = called_at WHERE called_at IS NOT NULL;

-- Staff figures are personal data about workers: shown aggregated unless the office turns this off.
ALTER TABLE offices ADD COLUMN staff_figures_aggregated boolean NOT NULL DEFAULT true;
-- The office's default hourly cost of an operator, for staff whose contract sets none (cents of euro).
ALTER TABLE offices ADD COLUMN hourly_cost_cents integer NOT NULL DEFAULT 2800
    CHECK (hourly_cost_cents BETWEEN 0 AND 100000);

-- What a partner agency agreed to pay towards the counter: a monthly amount, an amount per ticket, or both.
ALTER TABLE agencies ADD COLUMN contribution_monthly_cents bigint NOT NULL DEFAULT 0
    CHECK (contribution_monthly_cents BETWEEN 0 AND 100000000000);
ALTER TABLE agencies ADD COLUMN contribution_per_ticket_cents bigint NOT NULL DEFAULT 0
    CHECK (contribution_per_ticket_cents BETWEEN 0 AND 10000000);

-- An operator's hourly cost from their contract; NULL: the office's default.
ALTER TABLE contracts ADD COLUMN hourly_cost_cents integer CHECK (hourly_cost_cents BETWEEN 0 AND 100000);

-- The counter tablet that asks the citizen just served for a rating.
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check CHECK (kind IN ('kiosk', 'display', 'feedback'));

-- One row per visit (a ticket and the tickets it became through transfers), written in the transaction that
-- ends the visit. Tickets may later be anonymised or purged; visits keep no personal data and stay.
-- Ids of tickets are plain numbers, not foreign keys, for that reason.
CREATE TABLE visits (
    last_ticket_id   bigint PRIMARY KEY,  -- the ticket that ended the visit
    first_ticket_id  bigint NOT NULL,     -- the ticket issued at the kiosk (the phone page's code)
    office_id        bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    local_day        date NOT NULL,       -- the office's local date of issue
    local_hour       smallint NOT NULL CHECK (local_hour BETWEEN 0 AND 23),
    weekday          smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7), -- ISO, 1 = Monday
    service_id       bigint NOT NULL,     -- the service the citizen queued for first
    agency_id        bigint NOT NULL,     -- that service's agency
    final_service_id bigint NOT NULL,
    desk_id          bigint,              -- the desk that first called the visit
    staff_id         bigint,              -- the operator who first called it; NULL once anonymised
    outcome          text NOT NULL CHECK (outcome IN ('done', 'no_show', 'cancelled', 'expired')),
    transfers        smallint NOT NULL CHECK (transfers >= 0),
    recalls          integer NOT NULL CHECK (recalls >= 0),
    priority         boolean NOT NULL,
    appointment      boolean NOT NULL,
    issued_at        timestamptz NOT NULL,
    first_called_at  timestamptz,
    finished_at      timestamptz NOT NULL,
    wait_seconds     double precision,    -- issued_at → first call; NULL when never called
    service_seconds  double precision,    -- Σ started → finished over the visit's segments; NULL when never started
    target_seconds   integer NOT NULL,    -- the first service's wait target when the visit ended
    within_target    boolean,             -- NULL: left before the target passed without being called
    handed_off       boolean NOT NULL DEFAULT false
);
CREATE INDEX visits_office_day ON visits (office_id, local_day);

-- One row per segment of a visit an operator served (started → finished), for operator time and the
-- per-agency accounting: a transferred visit's minutes go to each segment's own service.
CREATE TABLE visit_work (
    ticket_id      bigint PRIMARY KEY,
    last_ticket_id bigint NOT NULL REFERENCES visits ON DELETE CASCADE,
    office_id      bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    local_day      date NOT NULL,         -- the office's local date of the start
    service_id     bigint NOT NULL,
    agency_id      bigint NOT NULL,
    desk_id        bigint,
    staff_id       bigint,                -- NULL once anonymised
    started_at     timestamptz NOT NULL,
    seconds        double precision NOT NULL CHECK (seconds >= 0)
);
CREATE INDEX visit_work_office_day ON visit_work (office_id, local_day);
CREATE INDEX visit_work_last ON visit_work (last_ticket_id);

-- Operator time per office, local day, slot and staff member: signed in, serving, paused by reason.
-- Rolled up from desk sessions every night (and for today on request), so it outlives their purge.
CREATE TABLE operator_time (
    office_id        bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    local_day        date NOT NULL,
    slot             smallint NOT NULL CHECK (slot BETWEEN 0 AND 1439), -- minutes after local midnight
    staff_id         bigint NOT NULL DEFAULT 0, -- 0 once anonymised
    signed_in_seconds double precision NOT NULL DEFAULT 0,
    serving_seconds  double precision NOT NULL DEFAULT 0,
    paused           jsonb NOT NULL DEFAULT '{}', -- reason → seconds
    PRIMARY KEY (office_id, local_day, slot, staff_id)
);

-- Citizen feedback: one per visit, anonymous. The comment is cleared after the office's retention period.
CREATE TABLE feedback (
    last_ticket_id bigint PRIMARY KEY REFERENCES visits ON DELETE CASCADE,
    office_id      bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    local_day      date NOT NULL,         -- the visit's local day
    at             timestamptz NOT NULL,
    score          smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment        text NOT NULL DEFAULT '' CHECK (length(comment) <= 1000),
    source         text NOT NULL CHECK (source IN ('phone', 'tablet'))
);
CREATE INDEX feedback_office_day ON feedback (office_id, local_day);

-- Other installations' monthly exports, imported for network benchmarking.
CREATE TABLE benchmark_imports (
    id             bigserial PRIMARY KEY,
    installation   text NOT NULL CHECK (installation <> ''),
    office_label   text NOT NULL CHECK (office_label <> ''),
    month          date NOT NULL,
    schema_version integer NOT NULL,
    data           jsonb NOT NULL,
    imported_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (installation, office_label, month)
);

-- The visits that ended before this migration.
WITH RECURSIVE chain AS (
    SELECT t.id AS last_id, t.id, t.transferred_from, 0 AS depth
    FROM tickets t WHERE t.status IN ('done', 'no_show', 'cancelled', 'expired')
    UNION ALL
    SELECT c.last_id, p.id, p.transferred_from, c.depth + 1
    FROM chain c JOIN tickets p ON p.id = c.transferred_from WHERE c.depth < 50
),
seg AS (
    SELECT c.last_id, c.depth, t.*, s.agency_id, s.wait_target_seconds, o.time_zone
    FROM chain c JOIN tickets t ON t.id = c.id JOIN services s ON s.id = t.service_id JOIN offices o ON o.id = t.office_id
),
firsts AS (
    SELECT DISTINCT ON (last_id) * FROM seg ORDER BY last_id, depth DESC
),
lasts AS (
    SELECT * FROM seg WHERE depth = 0
),
agg AS (
    SELECT last_id, count(*) - 1 AS transfers, sum(recalls) AS recalls,
           sum(extract(epoch FROM finished_at - started_at)) FILTER (WHERE started_at IS NOT NULL) AS service_seconds
    FROM seg GROUP BY last_id
)
INSERT INTO visits (last_ticket_id, first_ticket_id, office_id, local_day, local_hour, weekday, service_id, agency_id,
    final_service_id, desk_id, staff_id, outcome, transfers, recalls, priority, appointment, issued_at, first_called_at,
    finished_at, wait_seconds, service_seconds, target_seconds, within_target)
SELECT l.id, f.id, f.office_id, (f.issued_at AT TIME ZONE f.time_zone)::date,
       extract(hour FROM f.issued_at AT TIME ZONE f.time_zone)::smallint,
       extract(isodow FROM f.issued_at AT TIME ZONE f.time_zone)::smallint,
       f.service_id, f.agency_id, l.service_id, f.desk_id, f.staff_id, l.status, a.transfers, a.recalls,
       f.priority_id IS NOT NULL, f.appointment_at IS NOT NULL, f.issued_at, f.first_called_at, l.finished_at,
       extract(epoch FROM f.first_called_at - f.issued_at), a.service_seconds, f.wait_target_seconds,
       CASE WHEN f.first_called_at IS NOT NULL THEN f.first_called_at - f.issued_at <= f.wait_target_seconds * interval '1 second'
            WHEN l.finished_at - f.issued_at > f.wait_target_seconds * interval '1 second' THEN false END
FROM lasts l JOIN firsts f ON f.last_id = l.id JOIN agg a ON a.last_id = l.id;

INSERT INTO visit_work (ticket_id, last_ticket_id, office_id, local_day, service_id, agency_id, desk_id, staff_id, started_at, seconds)
WITH RECURSIVE chain AS (
    SELECT v.last_ticket_id AS last_id, t.id, t.transferred_from, 0 AS depth
    FROM visits v JOIN tickets t ON t.id = v.last_ticket_id
    UNION ALL
    SELECT c.last_id, p.id, p.transferred_from, c.depth + 1
    FROM chain c JOIN tickets p ON p.id = c.transferred_from WHERE c.depth < 50
)
SELECT t.id, c.last_id, t.office_id, (t.started_at AT TIME ZONE o.time_zone)::date, t.service_id, s.agency_id,
       t.desk_id, t.staff_id, t.started_at, greatest(extract(epoch FROM t.finished_at - t.started_at), 0)
FROM chain c JOIN tickets t ON t.id = c.id JOIN services s ON s.id = t.service_id JOIN offices o ON o.id = t.office_id
WHERE t.started_at IS NOT NULL AND t.finished_at IS NOT NULL;

-- +goose Down
DROP TABLE benchmark_imports, feedback, operator_time, visit_work, visits;
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
DELETE FROM devices WHERE kind = 'feedback';
ALTER TABLE devices ADD CONSTRAINT devices_kind_check CHECK (kind IN ('kiosk', 'display'));
ALTER TABLE contracts DROP COLUMN hourly_cost_cents;
ALTER TABLE agencies DROP COLUMN contribution_per_ticket_cents, DROP COLUMN contribution_monthly_cents;
ALTER TABLE offices DROP COLUMN hourly_cost_cents, DROP COLUMN staff_figures_aggregated;
ALTER TABLE tickets DROP COLUMN first_called_at;
