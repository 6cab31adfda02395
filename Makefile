# The two commands of the README. Tools land in ~/.cargo/bin and ./.tools (wasm-opt).
SHELL := /usr/bin/env bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test lint tools build release release-site wasm-size wasm-profile audit

# Where the browser suite finds the release bundle (the debug one stays in target/site).
RELEASE_SITE := target/site-release

## Install what is missing, build, and serve the demo at http://127.0.0.1:3000.
run: tools release
	./target/release/server serve --demo

## Install what is missing (Chromium included), check formatting and lints, and run every test.
test: lint
	cargo leptos build
	cargo test
	$(MAKE) release-site
	LEPTOS_SITE_ROOT=$(RELEASE_SITE) cargo test --test browser

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

## The server and the site as shipped: hashed file names, each with its .br and .gz.
release: tools
	cargo leptos build --release --precompress
	scripts/regzip.sh target/site

## The release site alone, in $(RELEASE_SITE), for the browser suite to run against.
release-site: tools
	LEPTOS_SITE_ROOT=$(RELEASE_SITE) cargo leptos build --release --precompress --frontend-only
	scripts/regzip.sh $(RELEASE_SITE)

## Prints the release WASM bundle's size: raw, gzipped and brotli (as served).
wasm-size: release-site
	scripts/wasm-size.sh

## What the release WASM's bytes are: the largest functions and the share of a few groups,
## measured after wasm-bindgen (with names kept) and before wasm-opt.
wasm-profile: release-site
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	wasm-bindgen --keep-debug --target web --out-dir "$$tmp" \
		target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm && \
	scripts/wasm-profile.py "$$tmp/frontend_bg.wasm" \
		--group '^reactive_graph' --group '^tachys' --group '^leptos_router' --group '^leptos' \
		--group 'hydrate_async' --group 'into_any_attr' --group 'serde_json|[Dd]eserializ' \
		--group '^core::' --group 'flt2dec' --group '^alloc::' --group '^app::'

## Known vulnerabilities in the dependencies (needs the RustSec database: GitHub, or ADVISORY_DB).
audit:
	scripts/audit.sh
