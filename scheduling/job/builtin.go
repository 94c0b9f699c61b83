package job

import (
	"context"
	"fmt"
	"time"

	"turno/scheduling/demand"
	"turno/ticketing"
)

// Builtin returns the jobs every node runs: "expire" at each day's last closing, "forecast" at 02:30 and
// "purge" at 03:15, office time.
func Builtin() []Job {
	return []Job{
		{Name: "expire", Spec: AtClosing, Run: expire},
		{Name: "forecast", Spec: "30 2 * * *", Run: forecast},
		{Name: "purge", Spec: "15 3 * * *", Run: purge},
	}
}

// expire ends the day's queue: tickets still waiting (or called and never served) at closing expire. When
// the office is open at the scheduled time — the hours changed after the run was planned — it does nothing.
func expire(ctx context.Context, env *Env, o *ticketing.Office, at time.Time) (string, error) {
	cal, err := env.Store.Calendar(ctx, o)
	if err != nil {
		return "", err
	}
	if open, _ := cal.OpenAt(at); open {
		return "office open at this time (hours changed); nothing expired", nil
	}
	n, err := env.Store.ExpireWaiting(ctx, o.ID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d tickets expired", n), nil
}

// forecast recomputes the office's demand forecast from history up to the day before at.
func forecast(ctx context.Context, env *Env, o *ticketing.Office, at time.Time) (string, error) {
	if err := demand.Refresh(ctx, env.Pool, o.ID, at); err != nil {
		return "", err
	}
	var rows int
	var arrivals float64
	if err := env.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(arrivals), 0)::float8 FROM demand_forecasts WHERE office_id = $1`, o.ID).
		Scan(&rows, &arrivals); err != nil {
		return "", fmt.Errorf("job forecast: summary: %w", err)
	}
	return fmt.Sprintf("%d cells, %.1f arrivals a week", rows, arrivals), nil
}

// purge removes what the office no longer needs past its retention (planning_settings.retention_days):
// the event log, closed desk sessions with their pauses, expired sign-in sessions of its users, the notes
// of past absences (they may name an illness), old run records; and anonymises old tickets, which are kept
// for the forecast without the idempotency key, the issuing device or user, or the operator.
func purge(ctx context.Context, env *Env, o *ticketing.Office, at time.Time) (string, error) {
	s, err := demand.LoadSettings(ctx, env.Pool, o.ID)
	if err != nil {
		return "", err
	}
	cutoff := at.AddDate(0, 0, -s.RetentionDays)
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"events deleted", `DELETE FROM office_events WHERE office_id = $1 AND at < $2`, []any{o.ID, cutoff}},
		{"desk sessions deleted", `DELETE FROM desk_sessions ds USING desks d
			WHERE d.id = ds.desk_id AND d.office_id = $1 AND ds.closed_at < $2`, []any{o.ID, cutoff}},
		{"expired sign-in sessions deleted", `DELETE FROM sessions s USING users u
			WHERE u.id = s.user_id AND u.office_id = $1 AND s.expires_at < $2`, []any{o.ID, at}},
		{"tickets anonymised", `UPDATE tickets SET idempotency_key = NULL, issued_by_device = NULL, issued_by_user = NULL, staff_id = NULL
			WHERE office_id = $1 AND issued_at < $2
			  AND (idempotency_key IS NOT NULL OR issued_by_device IS NOT NULL OR issued_by_user IS NOT NULL OR staff_id IS NOT NULL)`, []any{o.ID, cutoff}},
		{"absence notes cleared", `UPDATE absences SET note = '' WHERE office_id = $1 AND ends_at < $2 AND note <> ''`, []any{o.ID, cutoff}},
		{"run records deleted", `DELETE FROM job_runs WHERE office_id = $1 AND scheduled_for < $2`, []any{o.ID, cutoff}},
	}
	detail := ""
	for _, st := range steps {
		tag, err := env.Pool.Exec(ctx, st.sql, st.args...)
		if err != nil {
			return detail, fmt.Errorf("job purge: %s: %w", st.what, err)
		}
		if detail != "" {
			detail += ", "
		}
		detail += fmt.Sprintf("%d %s", tag.RowsAffected(), st.what)
	}
	return detail, nil
}
