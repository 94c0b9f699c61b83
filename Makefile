# Turno: `make run` starts a demo office, `make test` runs every test.
GO ?= go
BIN := bin/turno

.PHONY: run test build vet bench clean

build:
	$(GO) build -o $(BIN) ./cmd/turno

# Starts Turno with the seeded demo office. Without DATABASE_URL it runs a private PostgreSQL
# cluster under ./data (TURNO_DATA_DIR).
run: build
	./$(BIN) serve --demo

# Every test, against the PostgreSQL at TEST_DATABASE_URL (default 127.0.0.1:5432, user postgres).
test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

# The ticketing benchmark (issue and call-next with 10,000 waiting tickets across 20 offices).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2000x -count 5 ./ticketing

clean:
	rm -rf bin
