#!/usr/bin/env bash
# A three-node Plenary cluster on loopback, against the local Redis, without Docker:
# for trying cluster mode by hand and for load tests.
#
#   deploy/cluster.sh start [-- EXTRA_ARGS...]   start node-1..3, wait until each is ready
#   deploy/cluster.sh stop                        SIGTERM (drain), SIGKILL after 15 s
#   deploy/cluster.sh status                      which nodes run, and their /readyz
#
# node-N listens on ws://127.0.0.1:808N/ws with its admin port on 127.0.0.1:909N, uses
# redis://127.0.0.1:6379/ with key prefix $PLENARY_REDIS_PREFIX (default plenary-dev), and
# keeps its data directory (unused in cluster mode, but each node gets its own), log
# (node-N.log) and pid file (node-N.pid) in $PLENARY_CLUSTER_DIR (default
# /tmp/plenary-cluster).
#
# Environment:
#   PLENARY_JWT_SECRET     required; the nodes read it (and PLENARY_ADMIN_API_KEY, if set)
#                          from the environment, never from the command line
#   PLENARY_BIN            the plenary binary (default: target/release/plenary; this script
#                          builds nothing)
#   PLENARY_CLUSTER_DIR    where data, logs and pid files go (default /tmp/plenary-cluster)
#   PLENARY_REDIS_PREFIX   Redis key prefix shared by the three nodes (default plenary-dev)
#   other PLENARY_*        passed on to every node as usual (flags given here win)
# EXTRA_ARGS go to every node, e.g. `start -- --user-rate 100000 --user-burst 100000`;
# they must not repeat a flag this script sets (--listen, --admin-listen, --data-dir,
# --redis-url, --redis-prefix, --node-id).

set -euo pipefail

readonly -a NODES=(1 2 3)
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly BIN=${PLENARY_BIN:-$ROOT/target/release/plenary}
readonly DIR=${PLENARY_CLUSTER_DIR:-/tmp/plenary-cluster}
readonly PREFIX=${PLENARY_REDIS_PREFIX:-plenary-dev}
readonly HOST=127.0.0.1
readonly REDIS_PORT=6379
readonly REDIS_URL="redis://$HOST:$REDIS_PORT/"
readonly READY_TIMEOUT_SECS=20
readonly STOP_TIMEOUT_SECS=15

usage() {
    cat <<EOF
usage: deploy/cluster.sh start [-- EXTRA_ARGS...] | stop | status

  start   start node-1..3 (ws://$HOST:8081..8083/ws, admin $HOST:9091..9093) against
          $REDIS_URL, and wait until each answers /readyz (at most ${READY_TIMEOUT_SECS} s)
  stop    SIGTERM every node, wait up to ${STOP_TIMEOUT_SECS} s for the drain, then SIGKILL
  status  show which nodes are running and what their /readyz says

Needs PLENARY_JWT_SECRET. See the top of this file for the other variables.
EOF
}

die() {
    printf 'cluster.sh: %s\n' "$*" >&2
    exit 1
}

ws_port() { echo $((8080 + $1)); }
admin_port() { echo $((9090 + $1)); }
pid_file() { echo "$DIR/node-$1.pid"; }
log_file() { echo "$DIR/node-$1.log"; }

# The command line of a process, or nothing if it is gone.
cmdline_of() {
    local pid=$1
    if [[ -r /proc/$pid/cmdline ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true
    else
        ps -o args= -p "$pid" 2>/dev/null || true
    fi
}

# Prints the pid of node N if its pid file names a live process that is that node (a
# recycled pid belonging to something else does not count); fails otherwise.
running_pid() {
    local n=$1 file pid
    file=$(pid_file "$n")
    [[ -f $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [[ "$(cmdline_of "$pid") " == *"--node-id node-$n "* ]] || return 1
    echo "$pid"
}

# Prints the HTTP status of GET http://127.0.0.1:PORT/PATH, or 000 when nothing answers.
http_status() {
    local port=$1 path=$2
    if command -v curl >/dev/null 2>&1; then
        curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 "http://$HOST:$port$path" || true
        return
    fi
    # No curl: enough HTTP/1.0 over bash's /dev/tcp, in a subshell so that a refused
    # connection ends only the subshell.
    (
        exec 3<>"/dev/tcp/$HOST/$port" || exit 1
        printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$HOST" >&3
        IFS=' ' read -r -t 2 _ code _ <&3 || exit 1
        echo "$code"
    ) 2>/dev/null || echo 000
}

port_open() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

check_redis() {
    local reply
    reply=$(
        (
            exec 3<>"/dev/tcp/$HOST/$REDIS_PORT" || exit 1
            printf 'PING\r\n' >&3
            IFS= read -r -t 2 line <&3 || exit 1
            printf '%s' "${line%$'\r'}"
        ) 2>/dev/null
    ) || die "no Redis on $HOST:$REDIS_PORT: start one (e.g. redis-server --save '' --appendonly no)"
    [[ $reply == +PONG ]] || die "Redis on $HOST:$REDIS_PORT answered PING with: $reply"
}

# The last lines that this start wrote to node N's log (logs are appended across runs).
show_log_tail() {
    local n=$1 log from
    log=$(log_file "$n")
    printf -- '--- last lines of %s ---\n' "$log" >&2
    if [[ ! -f $log ]]; then
        echo '(no log)' >&2
        return
    fi
    from=$(grep -n '^=== .*: starting node-' "$log" | tail -n 1 | cut -d: -f1) || from=1
    tail -n "+${from:-1}" "$log" | tail -n 20 >&2
}

# SIGTERM the given nodes, wait for the drain, SIGKILL what is left, remove pid files.
stop_nodes() {
    local n pid deadline
    local -a waiting=()
    for n in "$@"; do
        if pid=$(running_pid "$n"); then
            kill -TERM "$pid" 2>/dev/null || true
            waiting+=("$n:$pid")
            echo "node-$n: SIGTERM sent (pid $pid), draining"
        elif [[ -f $(pid_file "$n") ]]; then
            echo "node-$n: not running (stale pid file removed)"
            rm -f -- "$(pid_file "$n")"
        else
            echo "node-$n: not running"
        fi
    done
    deadline=$((SECONDS + STOP_TIMEOUT_SECS))
    while ((${#waiting[@]} > 0)); do
        local -a still=()
        local entry
        for entry in "${waiting[@]}"; do
            n=${entry%%:*}
            if running_pid "$n" >/dev/null; then
                still+=("$entry")
            else
                echo "node-$n: stopped"
                rm -f -- "$(pid_file "$n")"
            fi
        done
        if ((${#still[@]} == 0)); then
            break
        fi
        waiting=("${still[@]}")
        if ((SECONDS > deadline)); then
            for entry in "${waiting[@]}"; do
                n=${entry%%:*}
                pid=${entry#*:}
                if running_pid "$n" >/dev/null; then
                    kill -KILL "$pid" 2>/dev/null || true
                    echo "node-$n: still running after ${STOP_TIMEOUT_SECS} s, SIGKILL sent (pid $pid)" >&2
                fi
                rm -f -- "$(pid_file "$n")"
            done
            break
        fi
        sleep 0.2
    done
}

cmd_start() {
    local -a extra=()
    if (($# > 0)); then
        [[ $1 == -- ]] || die "unexpected argument '$1': extra node flags go after '--' (start -- --user-rate 100000)"
        shift
        extra=("$@")
    fi

    [[ -n ${PLENARY_JWT_SECRET:-} ]] ||
        die "PLENARY_JWT_SECRET is not set: export an HS256 secret of at least 16 bytes first, e.g.
    export PLENARY_JWT_SECRET=\$(head -c 32 /dev/urandom | base64)"
    [[ -x $BIN ]] ||
        die "no plenary binary at $BIN: build it (cargo build --release --locked -p plenary-gateway --bin plenary) or set PLENARY_BIN"

    local n pid port
    for n in "${NODES[@]}"; do
        if pid=$(running_pid "$n"); then
            die "node-$n is already running (pid $pid): run 'deploy/cluster.sh stop' first"
        fi
    done
    for n in "${NODES[@]}"; do
        for port in "$(ws_port "$n")" "$(admin_port "$n")"; do
            if port_open "$port"; then
                die "$HOST:$port is already in use (needed by node-$n)"
            fi
        done
    done
    check_redis

    # Room for many connections, as far as the hard limit allows.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

    mkdir -p -- "$DIR"
    for n in "${NODES[@]}"; do
        mkdir -p -- "$DIR/node-$n/data"
        printf '=== %s: starting node-%s ===\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$n" >>"$(log_file "$n")"
        # NO_COLOR: plain text in the log files (no ANSI colour codes).
        NO_COLOR=1 nohup "$BIN" \
            --listen "$HOST:$(ws_port "$n")" \
            --admin-listen "$HOST:$(admin_port "$n")" \
            --data-dir "$DIR/node-$n/data" \
            --redis-url "$REDIS_URL" \
            --redis-prefix "$PREFIX" \
            --node-id "node-$n" \
            ${extra[@]+"${extra[@]}"} \
            </dev/null >>"$(log_file "$n")" 2>&1 &
        echo "$!" >"$(pid_file "$n")"
        echo "node-$n: started (pid $!), log $(log_file "$n")"
    done

    # Wait until every node answers /readyz with 200, a bounded time.
    local deadline=$((SECONDS + READY_TIMEOUT_SECS))
    local -a pending=("${NODES[@]}")
    while ((${#pending[@]} > 0)); do
        local -a still=()
        for n in "${pending[@]}"; do
            if ! running_pid "$n" >/dev/null; then
                echo "cluster.sh: node-$n exited during start-up" >&2
                show_log_tail "$n"
                echo "cluster.sh: stopping the other nodes" >&2
                stop_nodes "${NODES[@]}" >&2
                exit 1
            fi
            if [[ $(http_status "$(admin_port "$n")" /readyz) == 200 ]]; then
                echo "node-$n: ready"
            else
                still+=("$n")
            fi
        done
        if ((${#still[@]} == 0)); then
            break
        fi
        pending=("${still[@]}")
        if ((SECONDS > deadline)); then
            for n in "${pending[@]}"; do
                echo "cluster.sh: node-$n is not ready after ${READY_TIMEOUT_SECS} s (http://$HOST:$(admin_port "$n")/readyz)" >&2
                show_log_tail "$n"
            done
            echo "cluster.sh: stopping the nodes" >&2
            stop_nodes "${NODES[@]}" >&2
            exit 1
        fi
        sleep 0.2
    done

    local loadtest=plenary-loadtest
    if [[ -x $(dirname -- "$BIN")/plenary-loadtest ]]; then
        loadtest=$(dirname -- "$BIN")/plenary-loadtest
    fi
    cat <<EOF

Cluster ready (Redis $REDIS_URL, prefix $PREFIX, files in $DIR).
WebSocket endpoints:
  ws://$HOST:8081/ws
  ws://$HOST:8082/ws
  ws://$HOST:8083/ws
Admin (gRPC, /metrics, /healthz, /readyz): $HOST:9091, $HOST:9092, $HOST:9093

Fan-out load test over the three (reads PLENARY_JWT_SECRET from the environment; a
publisher faster than --user-rate, 10/s by default, is slowed by RATE_LIMITED retries:
start with '-- --user-rate 100000 --user-burst 100000' for such runs):
  $loadtest fanout \\
    --url ws://$HOST:8081/ws --url ws://$HOST:8082/ws --url ws://$HOST:8083/ws \\
    --clients 1000 --rate 50 --messages 500 --size 200 --json fanout.json

Stop with: deploy/cluster.sh stop
EOF
}

cmd_stop() {
    (($# == 0)) || die "stop takes no arguments"
    stop_nodes "${NODES[@]}"
}

cmd_status() {
    (($# == 0)) || die "status takes no arguments"
    local n pid running=0 code state
    for n in "${NODES[@]}"; do
        if pid=$(running_pid "$n"); then
            running=$((running + 1))
            code=$(http_status "$(admin_port "$n")" /readyz)
            case $code in
                200) state='ready' ;;
                503) state='draining (503)' ;;
                000) state='not answering' ;;
                *) state="HTTP $code" ;;
            esac
            printf 'node-%s  running  pid %-7s ws://%s:%s/ws  admin %s:%s  readyz: %s\n' \
                "$n" "$pid" "$HOST" "$(ws_port "$n")" "$HOST" "$(admin_port "$n")" "$state"
        else
            printf 'node-%s  stopped\n' "$n"
        fi
    done
    echo "files: $DIR"
    if ((running == ${#NODES[@]})); then
        return 0
    elif ((running == 0)); then
        return 3
    fi
    return 1
}

main() {
    (($# > 0)) || {
        usage >&2
        exit 2
    }
    local command=$1
    shift
    case $command in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        -h | --help | help) usage ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
