// Package bench holds the harnesses of "turno bench NAME": each drives the real parts (a real database,
// real HTTP and WebSocket clients, the real solver) and prints its figures. They live here, beside the
// command, so that no production package carries benchmark code.
package bench
