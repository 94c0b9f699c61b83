-- +goose Up
-- Core of Turno: offices and their catalogue, staff, users and devices, tickets and the office event log.

CREATE TABLE offices (
    id                   bigserial PRIMARY KEY,
    slug                 text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name                 text NOT NULL CHECK (name <> ''),
    time_zone            text NOT NULL DEFAULT 'Europe/Rome',
    -- Ticket issuing window: real offices stop issuing some minutes before closing;
    -- issuing_always_open lets a demo or a 24h service issue at any hour.
    issuing_always_open  boolean NOT NULL DEFAULT false,
    issuing_stop_minutes integer NOT NULL DEFAULT 15 CHECK (issuing_stop_minutes BETWEEN 0 AND 240),
    patron_day           text CHECK (patron_day ~ '^[0-1][0-9]-[0-3][0-9]$'), -- MM-DD of the patron saint's day
    -- Call-next policy parameters (seconds); see ticketing/call.go.
    appointment_bonus_seconds integer NOT NULL DEFAULT 7200,
    overdue_bonus_seconds   integer NOT NULL DEFAULT 600,
    last_event_seq       bigint NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agencies (
    id        bigserial PRIMARY KEY,
    office_id bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    code      text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    name      text NOT NULL,
    UNIQUE (office_id, code)
);

CREATE TABLE services (
    id                        bigserial PRIMARY KEY,
    office_id                 bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    agency_id                 bigint NOT NULL REFERENCES agencies,
    code                      text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,40}$'),
    audience                  text NOT NULL CHECK (audience IN ('citizen', 'business')),
    category                  text NOT NULL DEFAULT '',
    prefix                    text NOT NULL CHECK (prefix ~ '^[A-Z]{1,3}$'),
    -- Translations keyed by language code: {"it": "...", "en": "..."}.
    names                     jsonb NOT NULL CHECK (names ? 'it'),
    descriptions              jsonb NOT NULL DEFAULT '{}',
    what_to_bring             jsonb NOT NULL DEFAULT '{}',
    expected_handling_seconds integer NOT NULL DEFAULT 600 CHECK (expected_handling_seconds > 0),
    wait_target_seconds       integer NOT NULL DEFAULT 1200 CHECK (wait_target_seconds > 0),
    active                    boolean NOT NULL DEFAULT true,
    sort_order                integer NOT NULL DEFAULT 0,
    UNIQUE (office_id, code),
    UNIQUE (id, office_id)
);

CREATE TABLE desks (
    id        bigserial PRIMARY KEY,
    office_id bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    number    integer NOT NULL CHECK (number > 0),
    name      text NOT NULL,
    audience  text NOT NULL CHECK (audience IN ('citizen', 'business')),
    active    boolean NOT NULL DEFAULT true,
    UNIQUE (office_id, number)
);

CREATE TABLE desk_services (
    desk_id    bigint NOT NULL REFERENCES desks ON DELETE CASCADE,
    service_id bigint NOT NULL REFERENCES services ON DELETE CASCADE,
    PRIMARY KEY (desk_id, service_id)
);

CREATE TABLE staff (
    id         bigserial PRIMARY KEY,
    office_id  bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    code       text NOT NULL CHECK (code <> ''),
    full_name  text NOT NULL CHECK (full_name <> ''),
    email      text NOT NULL DEFAULT '',
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (office_id, code)
);

CREATE TABLE staff_skills (
    staff_id   bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
    service_id bigint NOT NULL REFERENCES services ON DELETE CASCADE,
    level      text NOT NULL CHECK (level IN ('primary', 'secondary', 'learning')),
    PRIMARY KEY (staff_id, service_id)
);

CREATE TABLE priority_categories (
    id            bigserial PRIMARY KEY,
    office_id     bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    code          text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    labels        jsonb NOT NULL CHECK (labels ? 'it'),
    bonus_seconds integer NOT NULL CHECK (bonus_seconds BETWEEN 0 AND 86400),
    active        boolean NOT NULL DEFAULT true,
    UNIQUE (office_id, code)
);

-- Opening hours: weekly intervals (weekday 1=Monday … 7=Sunday, local times) and dated exceptions.
CREATE TABLE opening_hours (
    id        bigserial PRIMARY KEY,
    office_id bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    weekday   smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens     time NOT NULL,
    closes    time NOT NULL,
    CHECK (opens < closes)
);
CREATE INDEX ON opening_hours (office_id, weekday);

CREATE TABLE opening_exceptions (
    id        bigserial PRIMARY KEY,
    office_id bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    day       date NOT NULL,
    -- closed=true with no times: closed all day; otherwise opens/closes replace the weekly intervals.
    closed    boolean NOT NULL DEFAULT false,
    opens     time,
    closes    time,
    reason    text NOT NULL DEFAULT '',
    CHECK (closed OR (opens IS NOT NULL AND closes IS NOT NULL AND opens < closes))
);
CREATE INDEX ON opening_exceptions (office_id, day);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{2,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'manager', 'operator')),
    display_name  text NOT NULL DEFAULT '',
    office_id     bigint REFERENCES offices ON DELETE SET NULL,
    staff_id      bigint UNIQUE REFERENCES staff ON DELETE SET NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX ON sessions (user_id);

CREATE TABLE devices (
    id         bigserial PRIMARY KEY,
    office_id  bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('kiosk', 'display')),
    name       text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Desk sessions: which operator is signed in to which desk. At most one open session per desk and per user.
CREATE TABLE desk_sessions (
    id           bigserial PRIMARY KEY,
    desk_id      bigint NOT NULL REFERENCES desks ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    staff_id     bigint REFERENCES staff,
    opened_at    timestamptz NOT NULL,
    closed_at    timestamptz,
    paused_at    timestamptz,
    pause_reason text
);
CREATE UNIQUE INDEX desk_sessions_open_desk ON desk_sessions (desk_id) WHERE closed_at IS NULL;
CREATE UNIQUE INDEX desk_sessions_open_user ON desk_sessions (user_id) WHERE closed_at IS NULL;

-- Pauses are kept for reports (operator availability).
CREATE TABLE desk_pauses (
    id              bigserial PRIMARY KEY,
    desk_session_id bigint NOT NULL REFERENCES desk_sessions ON DELETE CASCADE,
    reason          text NOT NULL,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz
);

-- Per (office, local day, prefix) counter: the row lock taken by the upsert serialises issuers of one
-- prefix, and the update is rolled back with its transaction, so numbers are unique and gap-free.
CREATE TABLE ticket_counters (
    office_id bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    local_day date NOT NULL,
    prefix    text NOT NULL,
    last      integer NOT NULL,
    PRIMARY KEY (office_id, local_day, prefix)
);

CREATE TABLE tickets (
    id               bigserial PRIMARY KEY,
    office_id        bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    service_id       bigint NOT NULL,
    code             text NOT NULL UNIQUE, -- public, unguessable: the phone page's key
    prefix           text NOT NULL,
    number           integer NOT NULL,
    label            text NOT NULL,        -- what people see: "A023"
    local_day        date NOT NULL,
    status           text NOT NULL CHECK (status IN
                         ('waiting', 'called', 'serving', 'done', 'no_show', 'transferred', 'cancelled', 'expired')),
    priority_id      bigint REFERENCES priority_categories,
    lang             text NOT NULL DEFAULT 'it',
    issued_at        timestamptz NOT NULL, -- first issue time; kept across transfers
    queued_at        timestamptz NOT NULL, -- entered this service's queue
    called_at        timestamptz,
    started_at       timestamptz,
    finished_at      timestamptz,
    desk_id          bigint REFERENCES desks,
    staff_id         bigint REFERENCES staff,
    recalls          integer NOT NULL DEFAULT 0,
    appointment_at   timestamptz,
    checked_in_at    timestamptz,
    transferred_from bigint REFERENCES tickets,
    transferred_to   bigint REFERENCES tickets,
    idempotency_key  text,
    issued_by_device bigint REFERENCES devices,
    issued_by_user   bigint REFERENCES users,
    FOREIGN KEY (service_id, office_id) REFERENCES services (id, office_id)
);
-- Numbers never repeat within an office's day (a transferred ticket reuses its number in a new row).
CREATE UNIQUE INDEX tickets_number_unique ON tickets (office_id, local_day, prefix, number)
    WHERE transferred_from IS NULL;
CREATE UNIQUE INDEX tickets_idempotency ON tickets (office_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- The call-next candidate scan: waiting tickets of one office.
CREATE INDEX tickets_waiting ON tickets (office_id, service_id, issued_at) WHERE status = 'waiting';
-- A desk's current ticket.
CREATE INDEX tickets_desk_current ON tickets (desk_id) WHERE status IN ('called', 'serving');
CREATE INDEX tickets_office_day ON tickets (office_id, local_day);

-- The office event log: the source of truth for displays. seq is dense per office and taken from
-- offices.last_event_seq under its row lock, so events of one office commit in seq order.
CREATE TABLE office_events (
    office_id bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    seq       bigint NOT NULL,
    type      text NOT NULL,
    at        timestamptz NOT NULL,
    ticket_id bigint REFERENCES tickets ON DELETE SET NULL,
    desk_id   bigint REFERENCES desks ON DELETE SET NULL,
    data      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (office_id, seq)
);
CREATE INDEX office_events_at ON office_events (at);

-- +goose Down
DROP TABLE office_events, tickets, ticket_counters, desk_pauses, desk_sessions, devices, sessions, users,
    opening_exceptions, opening_hours, priority_categories, staff_skills, staff, desk_services, desks,
    services, agencies, offices;
