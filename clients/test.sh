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
# The SDK's JSON-subprotocol suites need the canonical proto3 JSON mapping (64-bit
# integers as strings), which the server does not speak yet (issue 14, item 1): until
# then the suites run over plenary.v1.proto only.
(cd clients/js && npm ci --no-audit --no-fund &&
  PLENARY_SUBPROTOCOLS="${PLENARY_SUBPROTOCOLS:-plenary.v1.proto}" npm test)
clients/web/ci.sh
