#!/usr/bin/env bash
# Requests per second under wrk (a second load generator beside the bench's own): one
# `better-auth-bench serve` per configuration on a migrated SQLite file, one
# signed-in session sent as a bearer token, `wrk -t2 -c32 -d$SECS` per row,
# ROUNDS interleaved rounds (each round starts one row later), medians, and
# the ratio to the bare JSON handler of the same run.
#
#   cargo build --release -p better-auth-bench
#   bash bench/wrk.sh                  # ROUNDS=3 SECS=4 CONNS=32
#
# Rows: bare JSON handler; /get-session with the default never-stale cache;
# the same through `CurrentSession` on an app route; the opt-in 1 s cache
# (routes nested with `nest`, merged with `axum_routes`, and `CurrentSession`);
# the cache off.
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/better-auth-bench}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-4}
CONNS=${CONNS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT
url="sqlite://$dir/wrk.db"

# Starts `serve` with flags "$@" on the shared file; sets ADDR. The server
# exits when the script ends (its stdin, a fifo held open here, closes).
start() {
    local n=${#pids[@]}
    mkfifo "$dir/in$n"
    "$BIN" serve "$url" "$@" <"$dir/in$n" >"$dir/out$n" 2>"$dir/err$n" &
    pids+=($!)
    exec {fd}>"$dir/in$n"
    for _ in $(seq 100); do grep -q LISTEN "$dir/out$n" 2>/dev/null && break; sleep 0.1; done
    ADDR=$(sed -n 's/^LISTEN //p' "$dir/out$n")
    [ -n "$ADDR" ] || { cat "$dir/err$n" >&2; exit 1; }
}

start --migrate
default=$ADDR
resp=$(curl -s -D - -o /dev/null -H 'content-type: application/json' \
    -d '{"name":"Wrk","email":"wrk@bench.test","password":"correct horse battery staple"}' \
    "http://$default/auth/sign-up/email")
TOKEN=$(printf '%s' "$resp" | tr -d '\r' | sed -n 's/^set-auth-token: //Ip')
[ -n "$TOKEN" ] || { echo "sign-up failed: $resp" >&2; exit 1; }
start --session-cache
cached=$ADDR
start --no-cache
nocache=$ADDR

labels=("bare Axum handler, small JSON" "GET /get-session, default (never stale)"
    "CurrentSession on an app route, default" "GET /get-session, opt-in 1 s cache"
    "GET /get-session, opt-in 1 s cache, routes merged (axum_routes)"
    "CurrentSession on an app route, opt-in 1 s cache" "GET /get-session, cache off")
urls=("http://$default/json" "http://$default/auth/get-session" "http://$default/api/me"
    "http://$cached/auth/get-session" "http://$cached/merged/get-session" "http://$cached/api/me"
    "http://$nocache/auth/get-session")
for u in "${urls[@]}"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$u")
    [ "$code" = 200 ] || { echo "$u answered $code" >&2; exit 1; }
done

declare -A rates
rows=${#urls[@]}
for round in $(seq 0 $((ROUNDS - 1))); do
    for k in $(seq 0 $((rows - 1))); do
        i=$(((k + round) % rows))
        out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" -H "Authorization: Bearer $TOKEN" "${urls[$i]}")
        if grep -q 'Non-2xx' <<<"$out"; then echo "errors on ${urls[$i]}: $out" >&2; exit 1; fi
        rates[$i]+="$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out") "
        echo "round $((round + 1)): ${labels[$i]}: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s" >&2
    done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median "${rates[0]}")
echo "| row | req/s (median of $ROUNDS) | x bare |"
echo "|---|--:|--:|"
for i in $(seq 0 $((rows - 1))); do
    m=$(median "${rates[$i]}")
    printf '| %s | %s | %s |\n' "${labels[$i]}" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN {printf "%.3f", a / b}')"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
