package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"turno/internal/auth"
	"turno/internal/config"
	"turno/ticketing"
)

func runUser(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New(userUsage)
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "operator", "admin, manager or operator")
	office := fs.String("office", "", "slug of the user's office (required, except with --all-offices)")
	allOffices := fs.Bool("all-offices", false, "an administrator of every office (--role admin, no --office)")
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
	if err := checkUserOffice(auth.Role(*role), *office, *allOffices); err != nil {
		return err
	}
	password, err := readPassword(*fromStdin)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(password, *username); err != nil {
		return err
	}
	pool, stop, err := openDatabase(ctx, cfg, newLogger(cfg.LogLevel))
	if err != nil {
		return err
	}
	defer stop()
	store, authStore := ticketing.NewStore(pool), auth.NewStore(pool)
	u := auth.NewUser{Username: *username, Password: password, Role: auth.Role(*role), DisplayName: *name, AllOffices: *allOffices}
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
	where := "office " + *office
	if u.AllOffices {
		where = "every office"
	}
	fmt.Printf("user %q created (id %d, role %s, %s)\n", u.Username, id, u.Role, where)
	return nil
}

const userUsage = `usage: turno user add --username NAME --role manager|operator --office SLUG [--staff CODE] [--name NAME] [--password-stdin]
       turno user add --username NAME --role admin (--office SLUG | --all-offices) [--name NAME] [--password-stdin]
The password is asked for (or read from standard input): at least 12 characters, not a common password,
not containing the username`

// checkUserOffice applies the rule of offices before the password is asked for: every user belongs to an
// office, except an administrator created explicitly for every office.
func checkUserOffice(role auth.Role, office string, allOffices bool) error {
	switch {
	case !auth.ValidRole(role):
		return fmt.Errorf("--role must be admin, manager or operator, not %q", role)
	case allOffices && role != auth.Admin:
		return errors.New("--all-offices is for administrators only (--role admin)")
	case allOffices && office != "":
		return errors.New("an administrator of every office has no --office: give one of --office and --all-offices")
	case !allOffices && office == "" && role == auth.Admin:
		return errors.New("an administrator needs --office SLUG, or --all-offices to administer every office")
	case !allOffices && office == "":
		return fmt.Errorf("a %s needs --office SLUG", role)
	}
	return nil
}

// readPassword asks for the password twice on a terminal, or reads the first line of standard input
// (spaces included, for passphrases).
func readPassword(fromStdin bool) (string, error) {
	if !fromStdin && term.IsTerminal(int(os.Stdin.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
		p, err := ask("password (at least 12 characters; a few words with spaces make a good one): ")
		if err != nil {
			return "", err
		}
		again, err := ask("the same password again: ")
		if err != nil {
			return "", err
		}
		if p != again {
			return "", errors.New("the two passwords differ")
		}
		return p, nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
