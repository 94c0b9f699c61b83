package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"golang.org/x/term"

	"turno/internal/auth"
	"turno/internal/config"
	"turno/ticketing"
)

func runUser(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: turno user add --username NAME --role admin|manager|operator [--office SLUG] [--staff CODE] [--password-stdin]")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "operator", "admin, manager or operator")
	office := fs.String("office", "", "office slug (managers and operators)")
	staff := fs.String("staff", "", "staff code this user is (operators)")
	name := fs.String("name", "", "display name")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	cfg, _, err := config.Load(fs, args[1:])
	if err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	password, err := readPassword(*fromStdin)
	if err != nil {
		return err
	}
	pool, stop, err := openDatabase(ctx, cfg, newLogger(cfg.LogLevel))
	if err != nil {
		return err
	}
	defer stop()
	store, authStore := ticketing.NewStore(pool), auth.NewStore(pool)
	u := auth.NewUser{Username: *username, Password: password, Role: auth.Role(*role), DisplayName: *name}
	if *office != "" {
		o, err := store.Office(ctx, *office)
		if err != nil {
			return err
		}
		u.OfficeID = o.ID
		if *staff != "" {
			list, err := store.StaffList(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, st := range list {
				if st.Code == *staff {
					u.StaffID = st.ID
				}
			}
			if u.StaffID == 0 {
				return fmt.Errorf("no staff member %q in office %q", *staff, *office)
			}
		}
	}
	id, err := authStore.CreateUser(ctx, u, false)
	if err != nil {
		return err
	}
	fmt.Printf("user %q created (id %d, role %s)\n", u.Username, id, u.Role)
	return nil
}

func readPassword(fromStdin bool) (string, error) {
	if !fromStdin && term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprint(os.Stderr, "password: ")
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		return string(b), err
	}
	var p string
	if _, err := fmt.Fscanln(os.Stdin, &p); err != nil {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	return p, nil
}
