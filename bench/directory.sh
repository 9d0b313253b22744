#!/usr/bin/env bash
# The directory at scale (BENCHMARKS.md, "Directory at 1,000,000 users"):
# generate N users (one pre-computed argon2id PHC hash reused), import them with
# `usher users import`, then measure p50/p95/p99 of every users-list query shape
# (substring search on names and phone, exact user ID and email, metadata
# search, pages deep in the list for every sort column) and the server's RSS.
#
#   bash bench/directory.sh [sqlite|postgres|all]      (default: all)
#
# Writes the records to target/directory-records.jsonl and prints a Markdown
# table (also in target/directory-report.md).
#
# Environment:
#   BENCH_USERS            users to generate (default 1000000)
#   BENCH_REQUESTS         requests per query shape (default 300)
#   BENCH_POSTGRES_URL     maintenance database to create the bench database from
#                          (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_WAIT_FOR_BUILDS  seconds to wait for other rustc processes to finish
#                          before measuring (default 600; 0 to not wait)
set -euo pipefail

case "${1:-all}" in
    sqlite) ENGINES=(sqlite) ;;
    postgres) ENGINES=(postgres) ;;
    all) ENGINES=(sqlite postgres) ;;
    *) echo "usage: bash bench/directory.sh [sqlite|postgres|all]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
USERS=${BENCH_USERS:-1000000}
REQUESTS=${BENCH_REQUESTS:-300}
PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WAIT_FOR_BUILDS=${BENCH_WAIT_FOR_BUILDS:-600}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PASSWORD="correct horse battery staple"
RECORDS=$TARGET_DIR/directory-records.jsonl

log() { echo "directory-bench: $*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/usher-directory.XXXXXX")
SERVER_PID=""
PG_DB=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -n $PG_DB ]]; then psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

log "building (release)"
cargo build --release -q -p usher -p usher-bench
USHER=$TARGET_DIR/release/usher
BENCH=$TARGET_DIR/release/usher-bench

wait_for_quiet() {
    local waited=0
    while pgrep -x rustc >/dev/null 2>&1 && (( waited < WAIT_FOR_BUILDS )); do
        (( waited == 0 )) && log "waiting for other builds to finish"
        sleep 5
        waited=$((waited + 5))
    done
}

log "generating $USERS users"
"$BENCH" users-data --users "$USERS" --out "$WORK/users.jsonl"
: >"$RECORDS"

for ENGINE in "${ENGINES[@]}"; do
    if [[ $ENGINE == postgres ]]; then
        PG_DB="usher_dir_$RANDOM$RANDOM"
        psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
        export USHER_DATABASE_URL="${PG_ADMIN_URL%/*}/$PG_DB"
    else
        export USHER_DATABASE_URL="sqlite://$WORK/sqlite/usher.db"
        mkdir -p "$WORK/sqlite"
    fi
    echo "$PASSWORD" | "$USHER" admin create --user-id admin --email admin@example.org --password-stdin >/dev/null
    PORT=$(( 20000 + RANDOM % 20000 ))
    BASE="http://127.0.0.1:$PORT"
    "$USHER" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK" 2>"$WORK/server-$ENGINE.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
    # Sign in (cookie and CSRF token), define the metadata fields.
    CSRF=$(curl -s -D - -o /dev/null -c "$WORK/jar" -H 'content-type: application/json' \
        -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" \
        | tr -d '\r' | awk -F': ' 'tolower($1)=="x-csrf-token"{print $2}')
    curl -sf -b "$WORK/jar" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' -X PUT \
        --data @"$WORK/users.fields.json" "$BASE/api/v1/settings/metadata-fields" >/dev/null
    COOKIE=$(awk '$6=="usher_session"{print $7}' "$WORK/jar")

    wait_for_quiet
    log "$ENGINE: importing $USERS users (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    START=$(date +%s.%N)
    "$USHER" users import "$WORK/users.jsonl"
    SECONDS_TAKEN=$(echo "$(date +%s.%N) - $START" | bc)
    echo "{\"label\":\"$ENGINE\",\"kind\":\"directory_import\",\"users\":$USERS,\"seconds\":$(printf '%.1f' "$SECONDS_TAKEN")}" >>"$RECORDS"
    # Re-importing the same file changes nothing (and shows how long a no-op import takes).
    wait_for_quiet
    log "$ENGINE: measuring ($REQUESTS requests per shape, load: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$BENCH" directory --base "$BASE" --cookie "$COOKIE" --users "$USERS" --requests "$REQUESTS" \
        --server-pid "$SERVER_PID" --label "$ENGINE" >>"$RECORDS"
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    if [[ $ENGINE == postgres ]]; then
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null; PG_DB=""
    fi
done

"$BENCH" directory-report "$RECORDS" | tee "$TARGET_DIR/directory-report.md"
log "conditions: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
