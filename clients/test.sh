#!/usr/bin/env bash
# The TypeScript SDK's tests (clients/js, against a real plenary) and
# the web app's browser tests (clients/web, headless Chromium from Debian's package),
# run by the README's test command after `cargo test`. Needs Node 20+ and npm, and
# redis-server on the PATH (one SDK test runs a cluster node on a private Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --bin plenary
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
export PLENARY_BIN="${PLENARY_BIN:-$target/debug/plenary}"
# The suites run over both subprotocols (PLENARY_SUBPROTOCOLS picks fewer).
(cd clients/js && npm ci --no-audit --no-fund && npm test)
clients/web/ci.sh
