#!/usr/bin/env bash
# bench.sh <checkout> <label> <scenario>: one run of a scenario against a fresh server
# built from <checkout>/target/release. Prints one JSON line to stdout.
# Scenarios: idle (10,000 joined idle connections), fanout2500, fanout5000 (20 msg/s,
# 300 messages), qa (2,000 attendees, 20 moderators), rejoin (2,000 attendees rejoin at
# once after 200 messages, five storms), each on one embedded node.
# PLENARY_BIN / PLENARY_LOADTEST override the binaries (e.g. an older server driven by
# this checkout's load client).
set -euo pipefail
dir=$1; label=$2; scenario=$3
secret=bench-secret-0123456789abcdef
data=$(mktemp -d /tmp/bench-data.XXXX)
PLENARY_JWT_SECRET=$secret PLENARY_LOG=warn "${PLENARY_BIN:-$dir/target/release/plenary}" --data-dir "$data" \
  --user-rate 100000 --user-burst 100000 --listen 127.0.0.1:28080 --admin-listen 127.0.0.1:29090 \
  >/dev/null 2>"$data/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/28080) 2>/dev/null && break; sleep 0.1; done
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
before=$(cpu)
lt="${PLENARY_LOADTEST:-$dir/target/release/plenary-loadtest}"
out=$data/out.json
case $scenario in
  idle) "$lt" idle --url ws://127.0.0.1:28080/ws --jwt-secret $secret --clients 10000 --server-pid $pid --json $out >/dev/null 2>"$data/lt.log" || { cat "$data/lt.log" >&2; exit 1; } ;;
  fanout2500) "$lt" fanout --url ws://127.0.0.1:28080/ws --jwt-secret $secret --clients 2500 --rate 20 --messages 300 --size 100 --json $out >/dev/null 2>&1 ;;
  fanout5000) "$lt" fanout --url ws://127.0.0.1:28080/ws --jwt-secret $secret --clients 5000 --rate 20 --messages 300 --size 100 --json $out >/dev/null 2>&1 ;;
  rejoin) "$lt" rejoin --url ws://127.0.0.1:28080/ws --jwt-secret $secret --attendees 2000 --messages 200 --rounds 5 --server-pid $pid --json $out >/dev/null 2>"$data/lt.log" || { cat "$data/lt.log" >&2; exit 1; } ;;
  qa) "$lt" qa --url ws://127.0.0.1:28080/ws --jwt-secret $secret --attendees 2000 --moderators 20 --json $out >/dev/null 2>&1 ;;
esac
after=$(cpu)
ticks=$(getconf CLK_TCK)
python3 - "$out" "$label" "$scenario" "$before" "$after" "$ticks" <<'PY'
import json,sys
out,label,scenario,b,a,t=sys.argv[1:]
r=json.load(open(out))
r["server_cpu_s"]=(float(a)-float(b))/float(t)
print(json.dumps({"label":label,"scenario":scenario,**r}))
PY
