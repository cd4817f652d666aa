#!/usr/bin/env bash
# Memory of one context as its history grows: an embedded node (loopback, its own data
# directory, fsync at checkpoints) gets MESSAGES 100-byte group-chat messages from one
# `fanout` client as fast as it answers; the node's VmRSS (and peak, VmHWM) is read from
# /proc before and after. Stops the node when done.
#
#   loadtest/context-memory.sh target/release/plenary target/release/plenary-loadtest 1000000
set -euo pipefail
bin=${1:?usage: context-memory.sh PLENARY LOADTEST [MESSAGES] [PORT]}
lt=${2:?usage: context-memory.sh PLENARY LOADTEST [MESSAGES] [PORT]}
messages=${3:-1000000}
port=${4:-8091}
secret=bench-secret-0123456789abcdef
data=$(mktemp -d)
PLENARY_JWT_SECRET=$secret "$bin" --data-dir "$data" --listen "127.0.0.1:$port" \
  --admin-listen "127.0.0.1:$((port + 1))" --sync-mode normal \
  --user-rate 1000000 --user-burst 1000000 >"$data.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data" "$data.log"' EXIT
sleep 1
rss() { awk '/^VmRSS|^VmHWM|^RssAnon|^RssFile/ {printf "%s %d MiB  ", $1, $2 / 1024}' "/proc/$pid/status"; }
echo "before: $(rss)"
start=$(date +%s)
"$lt" fanout --url "ws://127.0.0.1:$port/ws" --jwt-secret "$secret" --clients 1 --rate 0 \
  --messages "$messages" --size 100 --context memory --json "$data/fanout.json" >/dev/null 2>&1
echo "after $messages messages ($(($(date +%s) - start)) s): $(rss)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("sent %d, lost %d" % (r["messages_sent"], r["lost"]))' "$data/fanout.json" 2>/dev/null || true
# The context's state as its last snapshot stored it (what a restart loads).
python3 - "$data/plenary.db" <<'PY' || true
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for ctx, seq, size in db.execute("SELECT context_id, seq, length(state) FROM snapshots WHERE context_id = 'memory'"):
    print("snapshot of %s at seq %d: %.1f MiB" % (ctx, seq, size / 2**20))
PY
