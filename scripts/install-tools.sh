#!/usr/bin/env bash
# Installs the build tools at pinned versions, skipping whatever is already there.
# cargo-leptos would otherwise try to download wasm-bindgen and wasm-opt from GitHub,
# which these machines cannot reach, so both are put on PATH first.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
PYTHON_INTERCOM_VERSION=5.0.1

here=$(cd "$(dirname "$0")/.." && pwd)
tools="$here/.tools"
mkdir -p "$tools"
export PATH="$tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins crates that no longer build on current rustc.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
  # Debian's binaryen is too old: its wasm-opt produces a bundle that never hydrates.
  (cd "$tools" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION")
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 11 minutes on 2 cores)"
  # 0.3.11 does not build on rustc 1.95.
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
fi

if [ "${1:-}" = "--test" ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing chromium and chromium-driver from the OS packages"
    apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
    apt_get update -qq
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq chromium chromium-driver >/dev/null
  fi
  # The official Intercom Python client, for tests/official (docs/intercom.md §12).
  if ! "$tools/venv/bin/python" -c "import intercom, sys; sys.exit(intercom.__version__ != '$PYTHON_INTERCOM_VERSION')" 2>/dev/null; then
    log "installing python-intercom $PYTHON_INTERCOM_VERSION into .tools/venv"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "python-intercom==$PYTHON_INTERCOM_VERSION"
  fi
fi
log "tools ready"
