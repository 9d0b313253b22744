#!/usr/bin/env bash
# Usher's benchmarks (see BENCHMARKS.md): start-up time, idle memory, sign-in
# throughput against the raw argon2id rate, authenticated reads during a
# sign-in storm, and read / health-check throughput alone.
#
#   bash bench/run.sh [sqlite|postgres|all]      (default: all)
#
# Prints a Markdown report and writes it to target/bench-report.md (the raw
# records to target/bench-records.jsonl). PostgreSQL runs on a fresh database
# usher_bench_<random> created on $BENCH_POSTGRES_URL and dropped at the end.
#
# Environment:
#   BENCH_SECONDS           measured seconds of each load run (default 10)
#   BENCH_POSTGRES_URL      maintenance database to create the bench database from
#                           (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_WAIT_FOR_BUILDS   seconds to wait for other rustc processes to finish
#                           before measuring (default 600; 0 to not wait)
#   BENCH_MFA_USERS         users enrolled for the two-step sign-in storm (default:
#                           150/s x min(1 + BENCH_SECONDS, 30) s x 1.5)
#   BENCH_ONLY              two-step: per engine, only the sign-in storms with and
#                           without two-step verification (and the raw argon2id rate);
#                           written to target/bench-report-two-step.md and
#                           target/bench-records-two-step.jsonl
set -euo pipefail

usage() {
    echo "usage: bash bench/run.sh [sqlite|postgres|all]" >&2
    exit 2
}

case "${1:-all}" in
    sqlite) ENGINES=(sqlite) ;;
    postgres) ENGINES=(postgres) ;;
    all) ENGINES=(sqlite postgres) ;;
    *) usage ;;
esac
[[ $# -le 1 ]] || usage

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUN_SECONDS=${BENCH_SECONDS:-10}
PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WAIT_FOR_BUILDS=${BENCH_WAIT_FOR_BUILDS:-600}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PASSWORD="correct horse battery staple"
SIGNIN_WORKERS=8
READ_CONNECTIONS=64
MIXED_SIGNIN_WORKERS=8
MIXED_READ_WORKERS=16
PACED_READ_RATE=200
HASH_SECONDS=3
# Enough users that none signs in twice within one 30 s TOTP step at 150 sign-ins/s.
MFA_USERS=${BENCH_MFA_USERS:-$((150 * ((RUN_SECONDS + 1) < 30 ? RUN_SECONDS + 1 : 30) * 3 / 2))}
ONLY=${BENCH_ONLY:-}
case "$ONLY" in
    "" | two-step) ;;
    *) echo "BENCH_ONLY must be two-step or empty" >&2; exit 2 ;;
esac

log() { echo "bench: $*" >&2; }

# --- State cleaned up on any exit ------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/usher-bench.XXXXXX")
SERVER_PID=""
PG_DB=""
STARTUP_MS=0

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

drop_pg_db() {
    if [[ -n $PG_DB ]]; then
        psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null ||
            log "could not drop database $PG_DB"
        PG_DB=""
    fi
}

cleanup() {
    local status=$?
    stop_server
    drop_pg_db
    if [[ $status -ne 0 ]]; then
        for f in "$WORK"/server-*.log; do
            [[ -f $f ]] || continue
            log "last lines of $f:"
            tail -n 20 "$f" >&2
        done
        log "FAILED (exit $status)"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Build -----------------------------------------------------------------
log "building (release)"
cargo build --release --quiet -p usher -p usher-bench
USHER=$TARGET_DIR/release/usher
BENCH=$TARGET_DIR/release/usher-bench

# --- Wait for a quiet machine ----------------------------------------------
# Percent of all CPU time spent busy over the next 2 s, machine-wide.
cpu_busy_pct() {
    local a b i total=0 idle
    read -r -a a </proc/stat
    sleep 2
    read -r -a b </proc/stat
    # cpu user nice system idle iowait irq softirq steal
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    idle=$((b[4] - a[4] + b[5] - a[5]))
    echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# Other builds or tests on the same cores would pollute every figure: before
# each engine, wait (polling every 20 s, at most BENCH_WAIT_FOR_BUILDS seconds
# over the whole run) until no rustc runs and the CPUs are mostly idle.
QUIET_BUSY_PCT=15
WAITED=0
BUSY_NOTE=""
quiet() { ! pgrep -x rustc >/dev/null && (($(cpu_busy_pct) < QUIET_BUSY_PCT)); }
wait_quiet() {
    until quiet; do
        if ((WAITED >= WAIT_FOR_BUILDS)); then
            if ((WAIT_FOR_BUILDS > 0)); then
                BUSY_NOTE="the machine was still busy (rustc running or CPUs over $QUIET_BUSY_PCT % busy) when measuring started: figures may be polluted."
                log "$BUSY_NOTE"
            fi
            return
        fi
        log "machine busy (rustc: $(pgrep -cx rustc || true), load: $(cut -d' ' -f1-3 /proc/loadavg)); waiting 20 s"
        sleep 20
        WAITED=$((WAITED + 20))
    done
}

# --- Helpers ---------------------------------------------------------------
RECORDS=$WORK/records.jsonl
: >"$RECORDS"

record() { echo "$1" >>"$RECORDS"; }

now_ns() { date +%s%N; }

free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        # Nothing answers: the port is free.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    log "no free port found"
    return 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }

# Starts the server; sets SERVER_PID, and STARTUP_MS to the time from process
# start to the first 200 from /healthz (curl polled every 5 ms).
start_server() {
    local engine=$1 t0 t1 deadline
    t0=$(now_ns)
    "$USHER" serve --listen "127.0.0.1:$PORT" >>"$WORK/server-$engine.log" 2>&1 &
    SERVER_PID=$!
    deadline=$((t0 + 30000000000))
    until curl -fs -o /dev/null "$BASE/healthz"; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID" || true
            SERVER_PID=""
            log "$engine: the server exited before it was ready"
            return 1
        fi
        if (($(now_ns) > deadline)); then
            log "$engine: the server was not ready within 30 s"
            return 1
        fi
        sleep 0.005
    done
    t1=$(now_ns)
    STARTUP_MS=$(((t1 - t0) / 1000000))
}

# Runs usher-bench with load against the server, recording its output
# (usher-bench also records the server's CPU use over the run).
measured() {
    local out
    out=$("$BENCH" "$@" --server-pid "$SERVER_PID" --label "$ENGINE")
    echo "$out" >>"$RECORDS"
    echo "$out" | sed 's/^/bench:   /' >&2
}

hash_rate() {
    "$BENCH" hash-rate --seconds "$HASH_SECONDS" --label "$ENGINE" | tee -a "$RECORDS" | sed 's/^/bench:   /' >&2
}

loadavg_record() {
    record "$(printf '{"label":"%s","kind":"%s","value":"%s"}' "$ENGINE" "$1" "$(cut -d' ' -f1-3 /proc/loadavg)")"
}

# --- One engine ------------------------------------------------------------
bench_engine() {
    ENGINE=$1
    local data=$WORK/$ENGINE cookie
    mkdir -p "$data"
    export USHER_DATA_DIR="$data" USHER_LOG=warn
    if [[ $ENGINE == postgres ]]; then
        PG_DB="usher_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
        psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $PG_DB" >/dev/null
        export USHER_DATABASE_URL="${PG_ADMIN_URL%/*}/$PG_DB"
    else
        export USHER_DATABASE_URL="sqlite://$data/usher.db"
    fi
    PORT=$(free_port)
    BASE="http://127.0.0.1:$PORT"
    wait_quiet
    log "$ENGINE: server on $BASE"
    loadavg_record loadavg
    record "$(printf '{"label":"%s","kind":"cpu_busy_before","pct":%d}' "$ENGINE" "$(cpu_busy_pct)")"

    # First start on an empty database: migrations and first-start set-up included.
    start_server "$ENGINE"
    record "$(printf '{"label":"%s","kind":"startup_first","ms":%d}' "$ENGINE" "$STARTUP_MS")"
    log "$ENGINE: first start ready in $STARTUP_MS ms"
    stop_server

    printf '%s\n' "$PASSWORD" | "$USHER" admin create --user-id admin --email admin@example.org --password-stdin >/dev/null

    # A start on an existing database, the usual case.
    start_server "$ENGINE"
    record "$(printf '{"label":"%s","kind":"startup","ms":%d}' "$ENGINE" "$STARTUP_MS")"
    log "$ENGINE: ready in $STARTUP_MS ms"
    sleep 1
    record "$(printf '{"label":"%s","kind":"rss_idle","kib":%d}' "$ENGINE" "$(rss_kib)")"

    # Secrets reach usher-bench through its environment, not its command line.
    export BENCH_PASSWORD=$PASSWORD
    cookie=$("$BENCH" login --base "$BASE" --login admin)
    export BENCH_COOKIE=$cookie

    # The raw argon2id rate right before and right after the sign-in storm: the
    # cores' speed drifts on a shared machine, and the report compares the
    # sign-in rate with the mean of the two.
    log "$ENGINE: raw argon2id rate, sign-in storm alone ($SIGNIN_WORKERS workers, $RUN_SECONDS s), raw rate again"
    hash_rate
    measured signin --base "$BASE" --login admin --concurrency "$SIGNIN_WORKERS" --seconds "$RUN_SECONDS"
    hash_rate

    # The same storm with two-step verification: MFA_USERS users imported with the
    # benchmark password (one argon2id hash for all), each signed in once and
    # enrolled in TOTP by usher-bench, which keeps their secrets; then each
    # sign-in is the password step and the code step, no user twice in a 30 s step.
    # usher-bench measures the raw argon2id rate right before and after it.
    log "$ENGINE: two-step sign-in storm: $MFA_USERS users imported and enrolled, then $SIGNIN_WORKERS workers, $RUN_SECONDS s"
    "$BENCH" mfa-users --users "$MFA_USERS" --out "$WORK/mfa-users.jsonl"
    "$USHER" users import "$WORK/mfa-users.jsonl" >/dev/null
    measured signin-mfa --base "$BASE" --users "$MFA_USERS" --concurrency "$SIGNIN_WORKERS" \
        --seconds "$RUN_SECONDS" --hash-seconds "$HASH_SECONDS"
    if [[ $ONLY == two-step ]]; then
        finish_engine
        return
    fi

    log "$ENGINE: GET /api/v1/me alone ($READ_CONNECTIONS connections, $RUN_SECONDS s)"
    measured reads --base "$BASE" --path /api/v1/me --concurrency "$READ_CONNECTIONS" --seconds "$RUN_SECONDS"

    log "$ENGINE: GET /api/v1/me alone ($MIXED_READ_WORKERS connections: the storm's read load, without the storm)"
    measured reads --base "$BASE" --path /api/v1/me --concurrency "$MIXED_READ_WORKERS" --seconds "$RUN_SECONDS"
    measured reads --base "$BASE" --path /api/v1/me --concurrency "$MIXED_READ_WORKERS" --rate "$PACED_READ_RATE" \
        --seconds "$RUN_SECONDS"

    log "$ENGINE: GET /api/v1/me with an API token ($READ_CONNECTIONS connections, $RUN_SECONDS s)"
    csrf=$(curl -fsS -D - -o /dev/null -H "Cookie: usher_session=$cookie" "$BASE/api/v1/me" |
        awk -F': ' 'tolower($1) == "x-csrf-token" { print $2 }' | tr -d '\r')
    BENCH_BEARER=$(curl -fsS -H "Cookie: usher_session=$cookie" -H "X-CSRF-Token: $csrf" \
        -H 'Content-Type: application/json' -d '{"description":"benchmark","scopes":["read"]}' \
        "$BASE/api/v1/me/tokens" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
    export BENCH_BEARER
    measured reads --base "$BASE" --path /api/v1/me --concurrency "$READ_CONNECTIONS" --seconds "$RUN_SECONDS"
    unset BENCH_BEARER

    log "$ENGINE: GET /healthz alone ($READ_CONNECTIONS connections, $RUN_SECONDS s)"
    unset BENCH_COOKIE
    measured reads --base "$BASE" --path /healthz --concurrency "$READ_CONNECTIONS" --seconds "$RUN_SECONDS"
    export BENCH_COOKIE=$cookie

    log "$ENGINE: reads during a sign-in storm ($MIXED_SIGNIN_WORKERS + $MIXED_READ_WORKERS workers, $RUN_SECONDS s)"
    measured mixed --base "$BASE" --login admin --path /api/v1/me \
        --signin-concurrency "$MIXED_SIGNIN_WORKERS" --read-concurrency "$MIXED_READ_WORKERS" --seconds "$RUN_SECONDS"

    log "$ENGINE: reads paced at $PACED_READ_RATE/s during a sign-in storm ($MIXED_SIGNIN_WORKERS + $MIXED_READ_WORKERS workers)"
    measured mixed --base "$BASE" --login admin --path /api/v1/me --read-rate "$PACED_READ_RATE" \
        --signin-concurrency "$MIXED_SIGNIN_WORKERS" --read-concurrency "$MIXED_READ_WORKERS" --seconds "$RUN_SECONDS"

    finish_engine
}

# Memory after the load, then the server and the database go.
finish_engine() {
    sleep 1
    record "$(printf '{"label":"%s","kind":"rss_after","kib":%d}' "$ENGINE" "$(rss_kib)")"
    loadavg_record loadavg_after
    stop_server
    drop_pg_db
    unset BENCH_COOKIE BENCH_PASSWORD USHER_DATABASE_URL
}

for engine in "${ENGINES[@]}"; do
    bench_engine "$engine"
done

# --- Report ----------------------------------------------------------------
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then commit="$commit (with uncommitted changes)"; fi
REPORT=$WORK/report.md
{
    echo "# Usher benchmark report"
    echo
    echo "- Command: \`${ONLY:+BENCH_ONLY=$ONLY }bash bench/run.sh ${1:-all}\` ($RUN_SECONDS s per load run, after 1 s of unmeasured warm-up)"
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit"
    echo "- Machine: $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
    echo "- Server and load generator share these CPUs; the server hashes on $(nproc) threads."
    [[ -z $BUSY_NOTE ]] || echo "- **Warning:** $BUSY_NOTE"
    echo
    "$BENCH" report "$RECORDS"
} >"$REPORT"
mkdir -p "$TARGET_DIR"
# A partial run (BENCH_ONLY) does not replace the full run's files.
cp "$REPORT" "$TARGET_DIR/bench-report${ONLY:+-$ONLY}.md"
cp "$RECORDS" "$TARGET_DIR/bench-records${ONLY:+-$ONLY}.jsonl"
cat "$REPORT"
log "report written to $TARGET_DIR/bench-report${ONLY:+-$ONLY}.md"
