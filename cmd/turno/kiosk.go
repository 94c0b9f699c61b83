package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"

	"turno/internal/auth"
	"turno/internal/config"
	"turno/ticketing"
)

const kioskUsage = "usage: turno kiosk pair --office SLUG --name NAME [--base-url URL]"

// runKiosk runs "turno kiosk pair": it registers a kiosk device of an office and prints the link that
// pairs a browser with it (opened once on the kiosk).
func runKiosk(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "pair" {
		return errors.New(kioskUsage)
	}
	fs := flag.NewFlagSet("kiosk pair", flag.ContinueOnError)
	office := fs.String("office", "", "office slug")
	name := fs.String("name", "", "kiosk name, e.g. \"Totem ingresso\"")
	cfg, _, err := config.Load(fs, args[1:])
	if err != nil {
		return err
	}
	if *office == "" || *name == "" {
		return errors.New(kioskUsage)
	}
	pool, stop, err := openDatabase(ctx, cfg, newLogger(cfg.LogLevel))
	if err != nil {
		return err
	}
	defer stop()
	o, err := ticketing.NewStore(pool).Office(ctx, *office)
	if err != nil {
		return err
	}
	d, token, err := auth.NewStore(pool).CreateDevice(ctx, o.ID, auth.Kiosk, *name)
	if err != nil {
		return err
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		_, port, _ := net.SplitHostPort(cfg.Addr)
		base = "http://localhost:" + port
	}
	fmt.Printf("kiosk %q registered (device %d) for office %q.\nOpen this link once on the kiosk:\n\n  %s/kiosk/%s?device=%s\n\n",
		d.Name, d.ID, o.Slug, base, url.PathEscape(o.Slug), url.QueryEscape(token))
	return nil
}
