// Package faulttest holds Turno's fault tests, which run with every `go test ./...` (and so `make test`):
// real `turno serve` processes, built from this tree, driven over HTTP and WebSocket while the test breaks
// what they depend on.
//
//   - TestDatabaseRestartUnderLoad starts a private PostgreSQL cluster of its own (internal/database),
//     restarts it while kiosks issue tickets, desks call them and a hall display follows the events, and
//     checks that no ticket is lost or duplicated, that ticket numbers have no gaps, that the display
//     misses no event and sees none twice, and that the only errors are 503s with Retry-After during the
//     outage.
//   - TestStreamResumesOnOtherNode runs two nodes on one database, kills the one a display follows with
//     SIGKILL in the middle of the stream, and checks that the display, reconnecting to the other with
//     since=<last seq>, receives exactly the events it missed.
//
// The package has no code of its own besides this comment; the tests are in its _test.go files.
package faulttest
