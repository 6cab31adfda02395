# The two commands of the README. Tools land in ~/.cargo/bin and ./.tools (wasm-opt).
SHELL := /usr/bin/env bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test lint tools build release wasm-size audit

## Install what is missing, build, and serve the demo at http://127.0.0.1:3000.
run: tools release
	./target/release/server serve --demo

## Install what is missing (Chromium included), check formatting and lints, and run every test.
test: lint
	cargo leptos build
	cargo test

## rustfmt and clippy (warnings are errors), for the server build and the browser build.
lint:
	scripts/install-tools.sh --test
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

tools:
	scripts/install-tools.sh

build: tools
	cargo leptos build

release: tools
	cargo leptos build --release

## Prints the release WASM bundle's size, raw and gzipped.
wasm-size: release
	scripts/wasm-size.sh

## Known vulnerabilities in the dependencies (needs the RustSec database: GitHub, or ADVISORY_DB).
audit:
	scripts/audit.sh
