# Turno: `make run` starts a demo office, `make test` runs every check and every test.
GO ?= go
BIN := bin/turno

# The server the tests create their databases on (dbtest.DefaultURL). When none answers there, `make test`
# starts the private cluster under TEST_DATA_DIR (the code `make run` uses), points TEST_DATABASE_URL at it
# for the run and stops it afterwards. `TEST_DATABASE_URL= make test` always uses the private cluster.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export TEST_DATABASE_URL
TEST_DATA_DIR ?= tmp/test-pg

# What `go test` runs (`make test PKGS=./ticketing/...` for one part), and the packages with concurrency that
# also run under the race detector (those that exist; none when PKGS is narrowed, unless RACE_PKGS is given).
PKGS ?= ./...
RACE_DIRS := displays ticketing scheduling/roster internal/cron internal/notify
RACE_PKGS ?= $(if $(filter ./...,$(PKGS)),$(foreach d,$(RACE_DIRS),$(if $(wildcard $(d)),./$(d)/...)))
# The race run is -short: the tests that skip then are single-threaded exhaustive checks that take minutes
# under the race detector (the solver's TestTreeProvesOptimum, TestNeighbourhoodFindsItsOptimum); the plain
# run has them.
RACE_FLAGS ?= -short
TEST_TIMEOUT ?= 30m

# Where `make run` looks for PostgreSQL's server binaries (as internal/database does), besides PATH.
PG_BIN_GLOB ?= /usr/lib/postgresql/*/bin

.PHONY: build run demo-reset postgres test lint fmt-check gotest bench screenshots clean
# Stages run in the order written, and the first failure stops the rest.
.NOTPARALLEL:

build:
	$(GO) build -o $(BIN) ./cmd/turno

# Starts Turno with the seeded demo office. Without DATABASE_URL it runs a private PostgreSQL cluster under
# ./data (TURNO_DATA_DIR), installing PostgreSQL first when it is missing.
run: postgres build
	./$(BIN) serve --demo

# Puts the demo office back as `make run` first seeds it.
demo-reset: postgres build
	./$(BIN) demo --reset

# PostgreSQL's server binaries, needed for the private cluster (not when DATABASE_URL is set): installed
# with apt-get when running as root, otherwise the command to run is printed.
postgres:
	@if [ -z "$$DATABASE_URL" ] && ! ls $(PG_BIN_GLOB)/pg_ctl >/dev/null 2>&1 && \
	    ! { command -v pg_ctl && command -v initdb; } >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "PostgreSQL is not installed; installing it: apt-get install postgresql"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; \
	  else \
	    echo "Turno runs a private PostgreSQL cluster and needs PostgreSQL's server installed:"; \
	    echo "  sudo apt-get install postgresql"; \
	    echo "(or set DATABASE_URL to a server you have)"; \
	    exit 1; \
	  fi; \
	fi

# Every check and every test: gofmt, go vet, go.mod tidy, staticcheck, go test, go test -race.
test: lint gotest

# The static checks: gofmt, go vet, no package testing in the binary, go.mod tidy, staticcheck (pinned in
# go.mod as a tool).
lint: fmt-check
	$(GO) vet ./...
	@! $(GO) list -deps ./cmd/turno | grep -qx testing || { echo "the turno binary links package testing"; exit 1; }
	$(GO) mod tidy -diff
	$(GO) tool staticcheck ./...

fmt-check:
	@files=$$(git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go' -not -path './tmp/*'); \
	bad=$$(for f in $$files; do [ -f "$$f" ] && echo "$$f"; done | xargs -r gofmt -l); \
	test -z "$$bad" || { echo "gofmt needed:"; echo "$$bad"; exit 1; }

# go test, then the race detector over RACE_PKGS, against TEST_DATABASE_URL or the private test cluster.
GOTEST = $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
RACETEST = $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(RACE_FLAGS) $(RACE_PKGS)
gotest: build
	./$(BIN) cluster exec --data-dir $(TEST_DATA_DIR) -- sh -ec '$(GOTEST)$(if $(strip $(RACE_PKGS)),; $(RACETEST))'

# Screenshots of every kind of page at its screen's size (kiosk 1080×1920, hall 1920×1080, desk 1366×768,
# phone 390×844, /manage 1440×900) into docs/screenshots, from the demo office in Chromium (cmd/turno's
# TestScreenshots), against TEST_DATABASE_URL or the private test cluster.
screenshots: build
	./$(BIN) cluster exec --data-dir $(TEST_DATA_DIR) -- sh -ec \
	  'TURNO_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run "^TestScreenshots$$" ./cmd/turno'

# The ticketing benchmark (issue and call-next with 10,000 waiting tickets across 20 offices).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2000x -count 5 ./ticketing

# Removes the build output and the private test cluster (wherever it lives).
clean:
	-@test ! -d $(TEST_DATA_DIR) || ./$(BIN) cluster remove --data-dir $(TEST_DATA_DIR)
	rm -rf bin tmp
