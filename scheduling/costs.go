package scheduling

import (
	"context"
	"fmt"
)

// HourlyCosts returns the hourly cost in euro cents of each staff member of an office whose contract sets
// one, by staff id; members without a contract or without a rate in it are absent and cost the office's
// default rate. Former members of the office (inactive ones) are included, since their past minutes are
// still accounted for. It is what the per-agency accounting (insight.StaffCosts) charges minutes at.
func (s *Store) HourlyCosts(ctx context.Context, officeID int64) (map[int64]int, error) {
	_, ids, err := s.staffOf(ctx, officeID)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `
		SELECT staff_id, hourly_cost_cents FROM contracts
		WHERE staff_id = ANY($1) AND hourly_cost_cents IS NOT NULL`, ids)
	if err != nil {
		return nil, fmt.Errorf("scheduling: hourly costs: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var cents int
		if err := rows.Scan(&id, &cents); err != nil {
			return nil, fmt.Errorf("scheduling: hourly costs: %w", err)
		}
		out[id] = cents
	}
	return out, rows.Err()
}

// HourlyCostEuro is the contract's hourly cost as a form shows it, "28.50", or "" when the contract sets
// none and the office's default applies.
func (c Contract) HourlyCostEuro() string {
	if c.HourlyCostCents == nil {
		return ""
	}
	return fmt.Sprintf("%d.%02d", *c.HourlyCostCents/100, *c.HourlyCostCents%100)
}
