# Lifebridge: the two commands the README promises, and the pieces they are made of.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test deps ui lint unit build e2e desk-e2e ui-test bench package clean-demo

## Runs the app on a fresh machine: embedded station on loopback, demo drive, real window.
run: deps ui
	$(CARGO) build --locked -p lifebridge-app -p lifebridge-cli -p lifebridge-station
	bash scripts/run-demo.sh

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
	LIFEBRIDGE_ZPL_RENDER="node $(CURDIR)/crates/labels/tests/zpl-render.cjs" \
	  bash scripts/with-postgres.sh $(CARGO) test --workspace --locked

# The binaries the end-to-end tests run. The whole workspace, so features unify exactly
# as in the test step and nothing is compiled twice.
build:
	$(CARGO) build --workspace --locked

e2e:
	bash scripts/e2e.sh

# The station's receiving desk and statistics pages in headless Debian Chromium
# (playwright-core), against the real station binary. Screenshots land in artifacts/desk/.
desk-e2e:
	$(CARGO) build --locked -p lifebridge-station --bin lifebridge-station --example desk_fixture
	timeout 600 node --test --test-concurrency=1 tests/desk/

bench:
	$(CARGO) run --release -p lifebridge-bench --locked -- --donors 1000000

## A .deb package, with the Tauri CLI from the npm registry (AppImage bundling would
## download linuxdeploy at build time, which this project does not allow).
package: deps ui
	npx tauri build --config src-tauri/tauri.conf.json

clean-demo:
	rm -rf .lifebridge
