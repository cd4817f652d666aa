#!/usr/bin/env bash
# baseline-ratio.sh CLIENTS RATE MESSAGES PLENARY LOADTEST TAG: one round of issue 13's
# side-by-side measurement — the limit baseline driven by `fanout --raw`, then a fresh
# embedded Plenary node (fsync on) driven by `fanout`, the same flags, each with
# --server-pid — and one line: TAG, both servers' CPU-seconds per million deliveries,
# their ratio, lost, disconnected and p99 of each. Loopback only; both stop by themselves.
set -euo pipefail
C=$1; R=$2; M=$3; BIN=$4; LT=$5; tag=$6
S=bench-secret-0123456789abcdef
out=$(mktemp -d /tmp/ratio.XXXX)
flags="--clients $C --rate $R --messages $M --size 100 --jwt-secret $S"
# Waits (10 s at most) until something listens on 127.0.0.1:$1.
listening() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; return 1; }
"$LT" baseline --listen 127.0.0.1:9100 --ignore-stdin >/dev/null 2>&1 & bpid=$!
trap 'kill $bpid ${ppid:-} 2>/dev/null; rm -rf "$out"' EXIT
listening 9100
"$LT" fanout --raw --url ws://127.0.0.1:9100/ws $flags --server-pid $bpid --json "$out/raw.json" >/dev/null 2>&1
kill $bpid; wait $bpid 2>/dev/null || true
PLENARY_JWT_SECRET=$S PLENARY_LOG=warn "$BIN" --data-dir "$out/data" --listen 127.0.0.1:28080 \
  --admin-listen 127.0.0.1:29090 --user-rate 100000 --user-burst 100000 >/dev/null 2>&1 & ppid=$!
listening 28080
"$LT" fanout --url ws://127.0.0.1:28080/ws $flags --server-pid $ppid --json "$out/plenary.json" >/dev/null 2>&1
python3 - "$out" "$tag" <<'PY'
import json, sys
out, tag = sys.argv[1:]
a = json.load(open(f"{out}/raw.json")); b = json.load(open(f"{out}/plenary.json"))
ra, rb = a["server_cpu_s_per_million"], b["server_cpu_s_per_million"]
print(tag, round(ra, 2), round(rb, 2), "ratio", round(rb / ra, 3), "lost", a.get("lost"), b.get("lost"),
      "disconnected", a.get("disconnected"), b.get("disconnected"), "p99", a.get("p99_ms"), b.get("p99_ms"))
PY
