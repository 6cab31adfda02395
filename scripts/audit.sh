#!/usr/bin/env bash
# Checks Cargo.lock against the RustSec advisory database (cargo-audit). Advisories we
# accept are listed with the reason in .cargo/audit.toml.
#
# The database is a git repository on GitHub. Where GitHub cannot be reached (the CI
# machines here reach only the package registries), point ADVISORY_DB at a local clone of
# https://github.com/rustsec/advisory-db; it is then used as it is, however old.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-audit >/dev/null || cargo install --locked cargo-audit
if [ -n "${ADVISORY_DB:-}" ]; then
  exec cargo audit --db "$ADVISORY_DB" --no-fetch --stale
fi
exec cargo audit
