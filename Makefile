# Lifebridge: the two commands the README promises, and the pieces they are made of.
SHELL := /bin/bash
CARGO ?= cargo
DEMO_DIR ?= .lifebridge
DEMO_STORE ?= $(DEMO_DIR)/demo.db
# A fixed key is fine for the throw-away demo store only; real devices get theirs at sign-in.
DEMO_KEY ?= demo-key-not-for-real-donors

.PHONY: run test deps lint unit bench clean-demo

## Runs the main job on a fresh machine: a demo drive in an encrypted store, then checks it.
run: deps
	$(CARGO) build --release -p lifebridge-cli
	mkdir -p $(DEMO_DIR)
	LIFEBRIDGE_STORE_KEY=$(DEMO_KEY) ./target/release/lifebridge store demo --store $(DEMO_STORE) --donations 20
	LIFEBRIDGE_STORE_KEY=$(DEMO_KEY) ./target/release/lifebridge store check --store $(DEMO_STORE)
	LIFEBRIDGE_STORE_KEY=$(DEMO_KEY) ./target/release/lifebridge store export --store $(DEMO_STORE) --format csv --table donations

## Runs every test: formatting, lints, unit, property, integration and crash tests.
test: deps lint unit

deps:
	@bash scripts/install-deps.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

bench:
	$(CARGO) run --release -p lifebridge-bench --locked -- --donors 1000000

clean-demo:
	rm -rf $(DEMO_DIR)
