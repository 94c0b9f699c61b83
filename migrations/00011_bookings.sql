-- +goose Up
-- The second channel: booked appointments, their rules and capacity, the back office's agendas, and the
-- notifications outbox.

-- Booking rules of a service (owned by ticketing/booking, rules.go). A service without a row is not bookable.
CREATE TABLE booking_rules (
    service_id         bigint PRIMARY KEY REFERENCES services ON DELETE CASCADE,
    office_id          bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    bookable           boolean NOT NULL DEFAULT false,
    -- NULL: the service's expected handling time, rounded up to 5 minutes.
    slot_minutes       integer CHECK (slot_minutes BETWEEN 5 AND 240),
    min_notice_minutes integer NOT NULL DEFAULT 120 CHECK (min_notice_minutes BETWEEN 0 AND 43200),
    horizon_days       integer NOT NULL DEFAULT 60 CHECK (horizon_days BETWEEN 1 AND 366),
    -- The share of capacity kept for appointments when no band covers a slot, and per time band:
    -- [{"weekday":0..7 (0: every day),"from":"HH:MM","to":"HH:MM","share":0..1}].
    default_share      numeric(4,3) NOT NULL DEFAULT 0.5 CHECK (default_share BETWEEN 0 AND 1),
    bands              jsonb NOT NULL DEFAULT '[]',
    early_minutes      integer NOT NULL DEFAULT 30 CHECK (early_minutes BETWEEN 0 AND 240),
    late_minutes       integer NOT NULL DEFAULT 15 CHECK (late_minutes BETWEEN 0 AND 240),
    -- What happens to a citizen who checks in after the late window: a walk-in ticket, or refused.
    late_policy        text NOT NULL DEFAULT 'walk_in' CHECK (late_policy IN ('walk_in', 'refuse')),
    -- Back-office services are booked by the front desk for a specialist, never by citizens directly.
    back_office        boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_rules_office ON booking_rules (office_id);

-- Days without appointments, for one service or (service_id NULL) every service of the office.
CREATE TABLE booking_blackouts (
    id         bigserial PRIMARY KEY,
    office_id  bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    service_id bigint REFERENCES services ON DELETE CASCADE,
    day        date NOT NULL,
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX booking_blackouts_day ON booking_blackouts (office_id, coalesce(service_id, 0), day);

-- The office's booking settings (owned by ticketing/booking).
CREATE TABLE booking_settings (
    office_id       bigint PRIMARY KEY REFERENCES offices ON DELETE CASCADE,
    -- Personal data of a booking (name, e-mail, phone, note) is cleared this many days after its start.
    retention_days  integer NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
    -- Reminders, in hours before the appointment.
    reminder_hours  integer[] NOT NULL DEFAULT '{24,2}',
    -- "Your turn is near" is sent when this many tickets or fewer are ahead.
    turn_near_ahead integer NOT NULL DEFAULT 3 CHECK (turn_near_ahead BETWEEN 1 AND 50)
);

-- The weekly hours a back-office specialist receives appointments, when no published roster says otherwise.
CREATE TABLE backoffice_hours (
    id       bigserial PRIMARY KEY,
    staff_id bigint NOT NULL REFERENCES staff ON DELETE CASCADE,
    weekday  smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts   time NOT NULL,
    ends     time NOT NULL CHECK (ends > starts)
);
CREATE INDEX backoffice_hours_staff ON backoffice_hours (staff_id);

-- Staff who work in the back office (owned by ticketing, staff.go).
ALTER TABLE staff ADD COLUMN back_office boolean NOT NULL DEFAULT false;

-- A ticket for one staff member only: the check-in of a back-office appointment (owned by ticketing).
ALTER TABLE tickets ADD COLUMN for_staff_id bigint REFERENCES staff ON DELETE SET NULL;
-- The front desk booked the back office for the citizen of this ticket (the hand-off; owned by ticketing).
ALTER TABLE tickets ADD COLUMN handed_off boolean NOT NULL DEFAULT false;

-- Join the queue from one's phone at the entrance (owned by ticketing, office.go).
ALTER TABLE offices ADD COLUMN phone_join boolean NOT NULL DEFAULT false;

-- Appointments (owned by ticketing/booking).
CREATE TABLE bookings (
    id              bigserial PRIMARY KEY,
    office_id       bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    service_id      bigint NOT NULL REFERENCES services ON DELETE CASCADE,
    code            text NOT NULL UNIQUE,   -- public, typed at the kiosk or read from the QR
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL CHECK (ends_at > starts_at),
    status          text NOT NULL CHECK (status IN ('booked', 'checked_in', 'cancelled', 'no_show')),
    staff_id        bigint REFERENCES staff ON DELETE SET NULL, -- the specialist of a back-office appointment
    lang            text NOT NULL DEFAULT 'it',
    -- Personal data, optional and minimal, cleared after booking_settings.retention_days.
    name            text,
    email           text,
    phone           text,
    note            text,                   -- the front desk's note for the specialist
    handed_off_from bigint REFERENCES tickets ON DELETE SET NULL, -- the front-desk ticket that booked it
    ticket_id       bigint REFERENCES tickets ON DELETE SET NULL, -- the ticket of its check-in
    cancelled_by    text CHECK (cancelled_by IN ('citizen', 'office')),
    idempotency_key text,
    request_hash    bytea,
    booked_by_user  bigint REFERENCES users ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    checked_in_at   timestamptz,
    cancelled_at    timestamptz,
    purged_at       timestamptz
);
CREATE INDEX bookings_slot ON bookings (service_id, starts_at) WHERE status IN ('booked', 'checked_in');
CREATE INDEX bookings_office_start ON bookings (office_id, starts_at);
CREATE INDEX bookings_staff_start ON bookings (staff_id, starts_at) WHERE staff_id IS NOT NULL;
CREATE UNIQUE INDEX bookings_idempotency ON bookings (office_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The notifications outbox (owned by internal/notify). A message is written in the transaction of what
-- causes it and delivered by the outbox worker, retried with back-off; dedupe_key makes enqueueing idempotent.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    office_id       bigint REFERENCES offices ON DELETE CASCADE,
    channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    kind            text NOT NULL,          -- what it is about: booking_confirmed, reminder, turn_near…
    dedupe_key      text NOT NULL UNIQUE,
    recipient       text,                   -- address, number or push subscription (JSON); cleared when purged
    subject         text NOT NULL DEFAULT '',
    body            text NOT NULL DEFAULT '',
    attachment_name text NOT NULL DEFAULT '',
    attachment_type text NOT NULL DEFAULT '',
    attachment      bytea,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_office ON notifications (office_id, created_at DESC);

-- Web Push subscriptions of phone pages (owned by internal/notify), keyed by what they follow
-- ("ticket:CODE" or "booking:CODE"); ahead is the "your turn is near" threshold the citizen chose.
CREATE TABLE push_subscriptions (
    id          bigserial PRIMARY KEY,
    office_id   bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    topic       text NOT NULL,
    endpoint    text NOT NULL,
    p256dh      text NOT NULL,
    auth        text NOT NULL,
    ahead       integer,
    notified_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, endpoint)
);

-- The installation's VAPID key pair for Web Push, made once by the first node that needs it.
CREATE TABLE vapid_keys (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    private_key bytea NOT NULL,            -- PKCS#8 DER, P-256
    public_key  text NOT NULL,             -- uncompressed point, base64url
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE vapid_keys;
DROP TABLE push_subscriptions;
DROP TABLE notifications;
DROP TABLE bookings;
ALTER TABLE offices DROP COLUMN phone_join;
ALTER TABLE tickets DROP COLUMN handed_off;
ALTER TABLE tickets DROP COLUMN for_staff_id;
ALTER TABLE staff DROP COLUMN back_office;
DROP TABLE backoffice_hours;
DROP TABLE booking_settings;
DROP TABLE booking_blackouts;
DROP TABLE booking_rules;
