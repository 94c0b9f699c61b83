package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/cmd/turno/demo"
	"turno/displays"
	"turno/docs"
	"turno/internal/auth"
	"turno/internal/config"
	"turno/internal/cron"
	"turno/internal/metrics"
	"turno/internal/notify"
	"turno/internal/web"
	"turno/kiosk"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/scheduling/plan"
	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/insight"
)

// app is Turno's parts, built once, in one place, from the configuration and the pool: the stores of each
// owner, the display hub, the roster planner and the cron runner with every job.
type app struct {
	cfg  *config.Config
	log  *slog.Logger
	pool *pgxpool.Pool
	base string // public base URL

	tickets  *ticketing.Store
	insight  *insight.Store
	reports  *pgxpool.Pool // the replica reports read (TURNO_REPORTS_DATABASE_URL); nil: the primary
	auth     *auth.Store
	bookings *booking.Store
	outbox   *notify.Store
	senders  notify.Senders // the configured notification channels, used by the outbox worker
	plans    *scheduling.Store
	demand   *demand.Store
	planner  *plan.Planner
	hub      *displays.Hub
	cron     *cron.Runner
	metrics  *metrics.Metrics
}

// draftTimeLimit is how long the weekly draft-roster job lets the solver run for each office.
const draftTimeLimit = 60 * time.Second

// newApp builds the parts. ctx bounds the work they start later (background solves).
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, pool *pgxpool.Pool, base string) (*app, error) {
	a := &app{cfg: cfg, log: log, pool: pool, base: base}
	a.tickets = ticketing.NewStore(pool)
	reports, rerr := openReports(ctx, cfg)
	if rerr != nil {
		return nil, rerr
	}
	a.reports = reports
	a.insight = insight.NewStore(pool, reports, a.tickets)
	a.tickets.Visits = a.insight // every ended visit is recorded for the reports in its own transaction
	a.auth = auth.NewStore(pool)
	a.outbox = notify.NewStore(pool)
	senders, serr := notify.NewSenders(a.outbox, notify.Config{SMTPURL: cfg.SMTPURL, SMTPFrom: cfg.SMTPFrom,
		SMSURL: cfg.SMSURL, SMSToken: cfg.SMSToken, BaseURL: base})
	if serr != nil {
		return nil, serr
	}
	a.senders = senders
	a.bookings = booking.NewStore(pool, a.tickets)
	a.bookings.Outbox = a.outbox
	a.plans = scheduling.NewStore(pool, a.tickets)
	a.demand = demand.NewStore(pool, a.tickets)
	a.planner = plan.New(ctx, pool, a.tickets, a.plans, a.demand, log)
	a.planner.Bookings = a.bookings // booked appointments: known demand and the capacity preview
	a.tickets.Outlook = a.planner   // wait estimates before any desk opens read the published roster
	a.hub = displays.NewHub(a.tickets, displays.Options{Log: log, Rights: a.auth,
		MaxStreamsPerAddress: cmp.Or(cfg.MaxStreamsPerAddress, -1)}) // 0 in the settings: no cap
	var err error
	if a.metrics, err = a.newMetrics(); err != nil {
		return nil, err
	}
	a.bookings.BaseURL = base
	a.tickets.Closures = a.bookings                 // a closed day cancels its appointments and tells the citizens
	a.tickets.WalkIns = a.bookings                  // back-office services take no walk-in tickets
	a.alsoObserve(a.bookings.TurnWatcher(ctx, log)) // "your turn is near" to phones that opted in
	a.cron, err = cron.NewRunner(cron.Config{Pool: pool, Targets: a.tickets.CronTargets, Log: log}, a.jobs()...)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// jobs are the background jobs, each defined by the part that owns its work.
func (a *app) jobs() []cron.Job {
	return []cron.Job{
		a.tickets.ExpireJob(),
		a.bookings.NoShowJob(),   // every 5 minutes: bookings past their late window become no-shows
		a.bookings.ReminderJob(), // every 5 minutes: appointment reminders due (24 h and 2 h before by default)
		a.demand.ForecastJob(),
		a.insight.OperatorTimeJob(), // 00:20, before the purge removes the desk sessions it reads
		a.tickets.PurgeJob(
			ticketing.PurgeStep{What: "expired sign-in sessions deleted", Run: a.auth.PurgeSessions},
			ticketing.PurgeStep{What: "absence notes cleared", Run: a.plans.PurgeAbsenceNotes},
			ticketing.PurgeStep{What: "operators forgotten in visit records", Run: a.insight.PurgeStaff},
			ticketing.PurgeStep{What: "operators forgotten in operator time", Run: a.insight.PurgeOperatorStaff},
			a.insight.PurgeStep(),  // feedback comments past the retention
			a.bookings.PurgeStep(), // bookings' names, e-mails, phones and notes past the booking retention
			ticketing.PurgeStep{What: "notifications anonymised or subscriptions deleted", Run: a.purgeOutbox},
			ticketing.PurgeStep{What: "run records deleted", Run: func(ctx context.Context, officeID int64, cutoff, _ time.Time) (int64, error) {
				return a.cron.Purge(ctx, officeID, cutoff)
			}},
		),
		a.planner.DraftJob(draftTimeLimit),
	}
}

// routes mounts every part's API and pages on the shared middleware stack.
func (a *app) routes() http.Handler {
	r := web.NewSiteRouter(a.auth.Authenticate, web.Site{BaseURL: a.base, TrustedProxies: a.cfg.TrustedProxies, FrameAncestors: a.cfg.FrameAncestors})
	r.Get("/healthz", a.health)
	doc := openAPI()
	r.Method("GET", docs.JSONPath, docs.ServeJSON(doc))
	if page, err := docs.NewAPIDocsPage(doc); err == nil {
		r.Method("GET", "/api/docs", page)
	} else {
		a.log.Error("the API documentation page cannot be built", "err", err)
	}
	a.auth.Routes(r)
	(&ticketing.API{Store: a.tickets, Auth: a.auth, IssueLimit: a.cfg.IssuePerMinute, Planning: a.plans}).Routes(r)
	(&ticketing.Pages{Store: a.tickets}).Routes(r)
	(&ticketing.Manage{Store: a.tickets, Auth: a.auth, Plans: a.plans.Plans}).Routes(r)
	(&scheduling.API{Store: a.plans, Tickets: a.tickets, Demand: a.demand}).Routes(r)
	(&scheduling.Pages{Store: a.plans, Tickets: a.tickets, Demand: a.demand, Runs: a.cron.Recent}).Routes(r)
	a.planner.Routes(r)
	(&insight.Handler{Store: a.insight, Tickets: a.tickets, Auth: a.auth, Costs: a.plans, Planning: a.planner, Appointments: a.bookings}).Routes(r)
	(&booking.Handler{Store: a.bookings, Tickets: a.tickets, Auth: a.auth, Outbox: a.outbox}).Routes(r)
	(&displays.Server{Store: a.tickets, Auth: a.auth, Hub: a.hub}).Routes(r)
	(&kiosk.Handler{Store: a.tickets, Auth: a.auth, BaseURL: a.base, Feedback: a.insight, Bookings: a.bookings, Alerts: a.bookings}).Routes(r)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/desk", http.StatusSeeOther) })
	return r
}

// start launches the background work, which runs until ctx ends: the hub's reader and its LISTEN
// connection, the planner's sweep of rosters left solving by a stopped node, the cron runner, and the
// notifications outbox's worker.
func (a *app) start(ctx context.Context) error {
	go a.hub.Run(ctx)
	go a.hub.Listen(ctx, a.pool.Config().ConnConfig)
	if err := a.planner.Start(ctx); err != nil {
		return err
	}
	a.cron.Start(ctx)
	go (&notify.Worker{Store: a.outbox, Senders: a.senders, Log: a.log}).Run(ctx) // the outbox; nodes share it safely
	return nil
}

// purgeOutbox clears the recipients and words of an office's notifications, and deletes its push
// subscriptions, past the bookings' retention of personal data (or the office's, if that comes sooner).
func (a *app) purgeOutbox(ctx context.Context, officeID int64, cutoff, now time.Time) (int64, error) {
	st, err := a.bookings.SettingsOf(ctx, officeID)
	if err != nil {
		return 0, err
	}
	return a.outbox.Purge(ctx, officeID, later(cutoff, now.AddDate(0, 0, -st.RetentionDays)))
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// seedDemo seeds the demo installation (three offices and a year of history), adding only what is missing.
func (a *app) seedDemo(ctx context.Context) error {
	if _, err := demo.Seed(ctx, demo.Stores{Tickets: a.tickets, Auth: a.auth, Plans: a.plans, Demand: a.demand, Insight: a.insight,
		Bookings: a.bookings}, time.Now()); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	return nil
}

// seedDemoOffice seeds the demo office alone with its forecast's weeks of history: what the tests of the
// server start from (a year in three offices takes too long for them).
func (a *app) seedDemoOffice(ctx context.Context) error {
	if _, err := demo.SeedDemoOffice(ctx, demo.Stores{Tickets: a.tickets, Auth: a.auth, Plans: a.plans, Demand: a.demand, Insight: a.insight}, time.Now()); err != nil {
		return fmt.Errorf("seed demo office: %w", err)
	}
	return nil
}

func (a *app) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.pool.Ping(ctx); err != nil {
		w.Header().Set("Retry-After", "5")
		web.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database unreachable"})
		return
	}
	web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
