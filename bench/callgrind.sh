#!/usr/bin/env bash
# Instructions per request, counted by callgrind (repeatable on a noisy
# machine, unlike req/s): the bench server runs under
# `valgrind --tool=callgrind`; counters are zeroed after a warm-up, N requests
# are sent on one keep-alive connection (curl), and the dump's total is
# divided by N. Rows: the bare JSON handler, /get-session with the default
# (validated) cache, the same session through `CurrentSession` on an app
# route, /get-session with the cache off and with the opt-in 1 s cache (nested,
# merged with `axum_routes`, and through `CurrentSession`).
#
#   cargo build --release -p better-auth-bench
#   bash bench/callgrind.sh            # N=2000 requests per row
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/better-auth-bench}
N=${N:-2000}
WARM=${WARM:-200}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
url="sqlite://$dir/cg.db"

# Starts the server (command in "$@") with its stdin on a fifo; sets PID, ADDR.
start() {
    rm -f "$dir/in" "$dir/out"
    mkfifo "$dir/in"
    "$@" <"$dir/in" >"$dir/out" 2>"$dir/err" &
    PID=$!
    exec 3>"$dir/in"
    for _ in $(seq 600); do
        if grep -q LISTEN "$dir/out" 2>/dev/null; then break; fi
        sleep 0.1
    done
    ADDR=$(sed -n 's/^LISTEN //p' "$dir/out")
    [ -n "$ADDR" ] || { cat "$dir/err"; exit 1; }
}
stop() {
    exec 3>&-
    wait "$PID" 2>/dev/null || true
}
# Sends $1 requests to path $2 with header $3 on one connection; fails
# unless every answer is 200.
hit() {
    local args=()
    for _ in $(seq "$1"); do args+=(-o /dev/null "http://$ADDR$2"); done
    local codes
    codes=$(curl -s -w '%{http_code}\n' -H "$3" "${args[@]}" | sort | uniq -c)
    case "$codes" in
        *" 200") ;;
        *) echo "unexpected answers from $2: $codes" >&2; cat "$dir/err" >&2; exit 1 ;;
    esac
}

# A user and a session, made without valgrind (Argon2 is slow under it).
start "$BIN" serve "$url" --migrate
resp=$(curl -s -D - -o /dev/null -H 'content-type: application/json' \
    -d '{"name":"CG","email":"cg@bench.test","password":"correct horse battery staple"}' \
    "http://$ADDR/auth/sign-up/email")
TOKEN=$(printf '%s' "$resp" | tr -d '\r' | sed -n 's/^set-auth-token: //Ip')
[ -n "$TOKEN" ] || { echo "sign-up failed: $resp"; exit 1; }
stop

# Ir per request for one row: $1 label, $2 path, $3 extra serve flags.
measure() {
    local label=$1 path=$2 flags=$3
    start valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p" "$BIN" serve "$url" $flags
    hit "$WARM" "$path" "Authorization: Bearer $TOKEN"
    callgrind_control -z "$PID" >/dev/null
    hit "$N" "$path" "Authorization: Bearer $TOKEN"
    callgrind_control -d "$PID" >/dev/null
    sleep 1
    local dump
    dump=$(ls -t "$dir"/callgrind.* 2>/dev/null | head -1)
    local total
    total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$dump" | head -1)
    stop
    [ -n "${KEEP:-}" ] && cp "$dump" "$KEEP/$(echo "$label" | tr -c "a-zA-Z0-9\n" _).out"
    rm -f "$dir"/callgrind.*
    printf '| %s | %s |\n' "$label" "$(( total / N ))"
}

echo "| row | instructions per request |"
echo "|---|--:|"
measure "bare Axum handler, small JSON" /json ""
measure "GET /get-session, SQLite file, default (validated cache)" /auth/get-session ""
measure "CurrentSession on an app route, SQLite file, default" /api/me ""
measure "GET /get-session, SQLite file, cache off" /auth/get-session "--no-cache"
measure "GET /get-session, SQLite file, the app's sqlx pool shared (Database::share_sqlite)" /auth/get-session "--shared-pool"
measure "GET /get-session, SQLite file, opt-in 1 s cache" /auth/get-session "--session-cache"
measure "GET /get-session, SQLite file, opt-in 1 s cache, routes merged (axum_routes)" /merged/get-session "--session-cache"
measure "CurrentSession on an app route, SQLite file, opt-in 1 s cache" /api/me "--session-cache"
