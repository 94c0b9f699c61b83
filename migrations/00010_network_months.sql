-- +goose Up
-- The network comparison's figures of each office and month, computed from the visits rollup when first
-- asked for and kept: a month of every office is hundreds of thousands of visits, and a past month does
-- not change. The counts of visits and ratings they were computed from travel with them; when either
-- differs from the month's count now (the current month, history imported later, a late rating), the
-- figures are computed again. Owned by ticketing/insight (network.go).
CREATE TABLE network_months (
    office_id  bigint NOT NULL REFERENCES offices ON DELETE CASCADE,
    month      date NOT NULL,          -- the first local day of the month
    visits     bigint NOT NULL,        -- the month's visits when the figures were computed
    ratings    bigint NOT NULL,        -- and its feedback rows
    kpis       jsonb NOT NULL,         -- insight.NetworkKPIs
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office_id, month)
);

-- +goose Down
DROP TABLE network_months;
