-- +goose Up
-- Office planning: shift templates, contracts, absences, preferences, demand, rosters, cron job runs.

-- Per-office planning parameters: the service-level target for Erlang C and the shrinkage on top.
CREATE TABLE planning_settings (
    office_id            bigint PRIMARY KEY REFERENCES offices ON DELETE CASCADE,
    service_level        numeric NOT NULL DEFAULT 0.80 CHECK (service_level > 0 AND service_level < 1),
    target_wait_seconds  integer NOT NULL DEFAULT 900 CHECK (target_wait_seconds > 0),
    shrinkage            numeric NOT NULL DEFAULT 0.15 CHECK (shrinkage >= 0 AND shrinkage < 1),
    slot_minutes         integer NOT NULL DEFAULT 30 CHECK (slot_minutes IN (15, 30, 60)),
    retention_days       integer NOT NULL DEFAULT 90 CHECK (retention_days >= 1)
);

-- A skill group is a service category (services.category): demand is forecast and staff are planned per group.

CREATE TABLE shift_templates (
    id        bigserial PRIMARY KEY,
    office_id bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    code      text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{1,16}$'),
    name      text NOT NULL,
    starts    time NOT NULL,
    ends      time NOT NULL,
    weekdays  smallint[] NOT NULL DEFAULT '{1,2,3,4,5,6}', -- ISO weekdays the template may be used on
    active    boolean NOT NULL DEFAULT true,
    CHECK (starts < ends),
    UNIQUE (office_id, code)
);

CREATE TABLE contracts (
    staff_id                  bigint PRIMARY KEY REFERENCES staff ON DELETE CASCADE,
    weekly_minutes            integer NOT NULL CHECK (weekly_minutes BETWEEN 0 AND 3600),
    max_daily_minutes         integer NOT NULL DEFAULT 540 CHECK (max_daily_minutes BETWEEN 0 AND 1440),
    max_days_per_week         integer NOT NULL DEFAULT 5 CHECK (max_days_per_week BETWEEN 0 AND 7),
    min_rest_minutes          integer NOT NULL DEFAULT 660 CHECK (min_rest_minutes BETWEEN 0 AND 1440),
    max_saturdays_per_4_weeks integer NOT NULL DEFAULT 2 CHECK (max_saturdays_per_4_weeks BETWEEN 0 AND 4),
    allowed_templates         bigint[] -- NULL: every template of the office
);

CREATE TABLE absences (
    id         bigserial PRIMARY KEY,
    office_id  bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    staff_id   bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('leave', 'sickness', 'training', 'permit_104', 'other')),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    note       text NOT NULL DEFAULT '',
    created_by bigint REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX absences_staff ON absences (staff_id, starts_at);

-- Wanted (positive) or unwanted (negative weight) days or shifts. day or weekday, optionally one template.
CREATE TABLE staff_preferences (
    id          bigserial PRIMARY KEY,
    staff_id    bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
    day         date,
    weekday     smallint CHECK (weekday BETWEEN 1 AND 7),
    template_id bigint REFERENCES shift_templates ON DELETE CASCADE,
    wanted      boolean NOT NULL,
    weight      integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100),
    CHECK ((day IS NULL) <> (weekday IS NULL))
);

-- Forecast arrivals and staff needed per weekday, slot and skill group (slot_start is local time).
CREATE TABLE demand_forecasts (
    office_id        bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    weekday          smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    slot_start       time NOT NULL,
    skill_group      text NOT NULL,
    arrivals         numeric NOT NULL,  -- expected arrivals in the slot
    handling_seconds numeric NOT NULL,  -- mean handling time from history
    agents_needed    integer NOT NULL,  -- Erlang C, before shrinkage
    staff_needed     integer NOT NULL,  -- after shrinkage
    computed_at      timestamptz NOT NULL,
    PRIMARY KEY (office_id, weekday, slot_start, skill_group)
);

-- A manager's manual arrivals figure for a slot, used instead of the forecast.
CREATE TABLE demand_overrides (
    office_id   bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    slot_start  time NOT NULL,
    skill_group text NOT NULL,
    arrivals    numeric NOT NULL CHECK (arrivals >= 0),
    PRIMARY KEY (office_id, weekday, slot_start, skill_group)
);

CREATE TABLE rosters (
    id           bigserial PRIMARY KEY,
    office_id    bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    starts_on    date NOT NULL,
    ends_on      date NOT NULL, -- inclusive
    status       text NOT NULL CHECK (status IN ('solving', 'draft', 'published', 'superseded', 'failed')),
    version      integer NOT NULL DEFAULT 1,
    parent_id    bigint REFERENCES rosters, -- the published roster this one revises
    created_by   bigint REFERENCES users ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    progress     jsonb NOT NULL DEFAULT '[]', -- best score over time while solving
    result       jsonb NOT NULL DEFAULT '{}', -- score, hard violations, soft-goal costs explained, coverage
    error        text,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX rosters_office ON rosters (office_id, starts_on);

CREATE TABLE roster_assignments (
    roster_id   bigint NOT NULL REFERENCES rosters ON DELETE CASCADE,
    staff_id    bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
    day         date NOT NULL,
    template_id bigint NOT NULL REFERENCES shift_templates,
    skill_group text NOT NULL DEFAULT '',
    PRIMARY KEY (roster_id, staff_id, day)
);

-- Changes made to a published roster (substitutions, manual edits), listed for the people affected.
CREATE TABLE roster_changes (
    id              bigserial PRIMARY KEY,
    roster_id       bigint NOT NULL REFERENCES rosters ON DELETE CASCADE,
    staff_id        bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
    day             date NOT NULL,
    before_template bigint REFERENCES shift_templates,
    after_template  bigint REFERENCES shift_templates,
    reason          text NOT NULL,
    absence_id      bigint REFERENCES absences ON DELETE SET NULL,
    changed_by      bigint REFERENCES users ON DELETE SET NULL,
    changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX roster_changes_roster ON roster_changes (roster_id, changed_at);

-- One row per cron job run; the unique key makes a run happen once when several nodes fire together.
CREATE TABLE job_runs (
    id            bigserial PRIMARY KEY,
    job           text NOT NULL,
    office_id     bigint REFERENCES offices ON DELETE CASCADE,
    scheduled_for timestamptz NOT NULL,
    node          text NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    status        text NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    detail        text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX job_runs_once ON job_runs (job, coalesce(office_id, 0), scheduled_for);

-- +goose Down
DROP TABLE job_runs, roster_changes, roster_assignments, rosters, demand_overrides, demand_forecasts,
    staff_preferences, absences, contracts, shift_templates, planning_settings;
