#!/usr/bin/env bash
# The web app's CI: installs what it needs, checks that the committed bundle (dist/,
# which the gateway embeds) is what the sources build, and runs the browser tests
# against a real plenary binary.
#
#   PLENARY_BIN   the binary to test (default: <repo>/target/debug/plenary, built here
#                 with cargo when missing; honours CARGO_TARGET_DIR)
#   CHROMIUM_BIN  the browser (default /usr/bin/chromium, installed with apt-get when
#                 missing)
set -euo pipefail
cd "$(dirname "$0")"
repo="$(cd ../.. && pwd)"

if [[ -z "${CHROMIUM_BIN:-}" && ! -x /usr/bin/chromium ]]; then
  echo "ci.sh: installing chromium" >&2
  sudo_=""
  [[ "$(id -u)" -ne 0 ]] && sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
fi

npm ci --no-audit --no-fund

npm run typecheck

# The bundle is committed so that a cargo build needs no Node: it must be current.
npm run build
if ! git -C "$repo" diff --quiet -- clients/web/dist; then
  git -C "$repo" --no-pager diff --stat -- clients/web/dist >&2
  echo "ci.sh: clients/web/dist is not what the sources build: run 'npm run build' in clients/web and commit dist/" >&2
  exit 1
fi

if [[ -z "${PLENARY_BIN:-}" ]]; then
  target="${CARGO_TARGET_DIR:-$repo/target}"
  (cd "$repo" && cargo build -p plenary-gateway --bin plenary --locked)
  export PLENARY_BIN="$target/debug/plenary"
fi

# Each test bounds itself (node:test timeouts); this bounds the whole run.
timeout 600 npm test
