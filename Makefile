# Lifebridge: the two commands the README promises, and the pieces they are made of.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run run-bus test deps ui lint unit build e2e desk-e2e ui-test bench bench-replication package clean-demo

# Every binary and example in one workspace build, the same for `make run`, the e2e tests
# and the desk test. A build of a package subset (`-p lifebridge-station --example …`)
# unifies features differently (dev-dependencies included or not) and recompiled some 80
# crates a second time; `--bins --examples` selects what `cargo test --workspace` already
# built with the same features, so after `unit` it only links the binaries.
BUILD_ALL = $(CARGO) build --workspace --bins --examples --locked

## Runs the app on a fresh machine: embedded station on loopback, demo drive, real window.
run: deps ui
	$(BUILD_ALL)
	bash scripts/run-demo.sh

## A bus with no internet: the station, the bus's hub and two app windows (registration
## and physician) enrolled with the hub; the hub's page switches its link to the station.
run-bus: deps ui
	$(BUILD_ALL)
	bash scripts/run-bus.sh

## Runs every test: formatting, lints, UI unit tests, Rust unit/property/integration/crash
## tests (with a real PostgreSQL server; label PDFs and ZPL read back through independent
## renderers), and end-to-end tests of the real app window.
test: deps ui lint ui-test unit build e2e desk-e2e

deps:
	@bash scripts/install-deps.sh

# The app embeds dist/ui at compile time, so the UI is built before any cargo step.
ui:
	npm run --silent build:ui

lint:
	$(CARGO) fmt --all --check
	npm run --silent typecheck
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

ui-test:
	npm run --silent test:ui

# LIFEBRIDGE_ZPL_RENDER: labels' ZPL is also drawn by an independent ZPL renderer (npm).
unit:
	LIFEBRIDGE_ZPL_RENDER="node $(CURDIR)/crates/print/tests/zpl-render.cjs" \
	  bash scripts/with-postgres.sh $(CARGO) test --workspace --locked

# The binaries the end-to-end tests run.
build: deps ui
	$(BUILD_ALL)

e2e: build
	bash scripts/e2e.sh

# The station's receiving desk and statistics pages in headless Debian Chromium
# (playwright-core), against the real station binary. Screenshots land in artifacts/desk/.
desk-e2e: build
	timeout -k 10 600 node --test --test-concurrency=1 --test-timeout=240000 --test-force-exit tests/desk/

bench:
	$(CARGO) run --release -p lifebridge-bench --bin lifebridge-bench --locked -- --donors 1000000

# Replication through a real station, SQLite and PostgreSQL side by side (a throw-away
# PostgreSQL server from scripts/with-postgres.sh).
bench-replication:
	bash scripts/with-postgres.sh $(CARGO) run --release -p lifebridge-bench --bin lifebridge-replication-bench --locked

## A .deb package, with the Tauri CLI from the npm registry (AppImage bundling would
## download linuxdeploy at build time, which this project does not allow).
package: deps ui
	npx tauri build --config src-tauri/tauri.conf.json

clean-demo:
	rm -rf .lifebridge
