package auth_test

import (
	"context"
	"errors"
	"testing"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// Users belong to an office unless created explicitly as administrators of every office.
func TestUsersBelongToAnOffice(t *testing.T) {
	t.Parallel()
	e := ticketingtest.New(t)
	ctx := context.Background()
	const pw = "una password lunga e strana"
	refused := []struct {
		u     auth.NewUser
		field string
	}{
		{auth.NewUser{Username: "capo", Role: auth.Manager}, "office"},
		{auth.NewUser{Username: "sportellista", Role: auth.Operator}, "office"},
		{auth.NewUser{Username: "root", Role: auth.Admin}, "office"},
		{auth.NewUser{Username: "capo", Role: auth.Manager, AllOffices: true}, "all_offices"},
		{auth.NewUser{Username: "root", Role: auth.Admin, AllOffices: true, OfficeID: e.Office.ID}, "all_offices"},
		{auth.NewUser{Username: "Capo", Role: auth.Manager, OfficeID: e.Office.ID}, "username"},
		{auth.NewUser{Username: "capo", Role: auth.Manager, OfficeID: e.Office.ID, Password: "short"}, "password"},
		{auth.NewUser{Username: "capo", Role: auth.Manager, OfficeID: e.Office.ID, Password: "capo-1234-capo"}, "password"},
		{auth.NewUser{Username: "capo", Role: auth.Manager, OfficeID: e.Office.ID, Password: "password1234"}, "password"},
	}
	for _, c := range refused {
		if c.u.Password == "" {
			c.u.Password = pw
		}
		_, err := e.Auth.CreateUser(ctx, c.u, false)
		var we *web.Error
		if !errors.As(err, &we) || we.Status != 422 || we.Field != c.field {
			t.Errorf("%+v: %v, want a 422 on %s", c.u, err, c.field)
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM users WHERE username IN ('capo', 'sportellista', 'root')`); n != 0 {
		t.Fatalf("%d refused users were written", n)
	}
	if _, err := e.Auth.CreateUser(ctx, auth.NewUser{Username: "root", Role: auth.Admin, AllOffices: true, Password: pw}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Auth.CreateUser(ctx, auth.NewUser{Username: "capo", Role: auth.Admin, OfficeID: e.Office.ID, Password: pw}, false); err != nil {
		t.Fatal(err)
	}
	// The schema holds the rule too.
	for _, q := range []string{
		`INSERT INTO users (username, password_hash, role) VALUES ('nessuno', 'x', 'manager')`,
		`INSERT INTO users (username, password_hash, role, all_offices) VALUES ('nessuno', 'x', 'manager', true)`,
		`UPDATE users SET office_id = NULL WHERE username = 'manager'`,
		`UPDATE users SET all_offices = true WHERE username = 'capo'`,
	} {
		if _, err := e.Pool.Exec(ctx, q); err == nil {
			t.Errorf("the database accepted %s", q)
		}
	}
	// The demo administrator is one of every office.
	_, admin, err := e.Auth.Login(ctx, "admin", demo.Password)
	if err != nil || !admin.AllOffices || admin.OfficeID != 0 {
		t.Fatalf("demo admin: %+v %v", admin, err)
	}
	_, office, err := e.Auth.Login(ctx, "capo", pw)
	if err != nil || office.AllOffices || office.OfficeID != e.Office.ID {
		t.Fatalf("office admin: %+v %v", office, err)
	}
	other := &ticketing.Office{Slug: "altrove", Name: "Altrove", TimeZone: "Europe/Rome"}
	if _, err := e.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		u                *auth.User
		office           int64
		manages, worksIn bool
	}{
		{admin, e.Office.ID, true, true},
		{admin, other.ID, true, true},
		{office, e.Office.ID, true, true},
		{office, other.ID, false, false},
		{&auth.User{Role: auth.Manager, OfficeID: e.Office.ID}, e.Office.ID, true, true},
		{&auth.User{Role: auth.Manager, OfficeID: e.Office.ID}, other.ID, false, false},
		{&auth.User{Role: auth.Operator, OfficeID: e.Office.ID}, e.Office.ID, false, true},
		{&auth.User{Role: auth.Operator, OfficeID: e.Office.ID}, other.ID, false, false},
		// From before all_offices: a user without an office and without all_offices has nothing.
		{&auth.User{Role: auth.Manager}, e.Office.ID, false, false},
		{&auth.User{Role: auth.Operator}, e.Office.ID, false, false},
		{&auth.User{Role: auth.Admin}, e.Office.ID, false, false},
		{&auth.User{Role: auth.Manager, AllOffices: true}, e.Office.ID, false, false},
		{nil, e.Office.ID, false, false},
	} {
		if got := auth.CanManage(c.u, c.office); got != c.manages {
			t.Errorf("CanManage(%+v, %d) = %v", c.u, c.office, got)
		}
		if got := auth.WorksIn(c.u, c.office); got != c.worksIn {
			t.Errorf("WorksIn(%+v, %d) = %v", c.u, c.office, got)
		}
	}
}
