#!/usr/bin/env bash
# What Tessera's verify costs a web request, measured through tessera-gateway with wrk:
# the same gateway, the same connections, three routes in one run:
#   GET /health           answered by the gateway alone (the web stack's floor),
#   GET /api/admin/user   Unleash's "who am I" by cookie: one VERIFY (with the user) per request,
#   GET /v1/auth/user     by bearer: one VERIFY (with the user and the API keys) per request.
# Prints requests/s, p50/p99 latency, and each route's throughput as a share of /health's.
#
#   Benchmarks/gateway.sh                      # 10 s per route, 50 connections, 2 wrk threads
#   SECONDS_PER_RUN=3 CONNECTIONS=16 Benchmarks/gateway.sh
#   CONFIGURATION=debug ...                    # the smoke run's: reuses the test build (figures meaningless)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
CONFIGURATION=${CONFIGURATION:-release}

scripts/install-deps --gateway-bench
for product in tesserad tessera tessera-gateway; do swift build -c "$CONFIGURATION" --product "$product" >&2; done
BIN=$(swift build -c "$CONFIGURATION" --show-bin-path)

WORK=$(mktemp -d /tmp/tessera-gateway-bench.XXXXXX)
cleanup() {
  [ -n "${GATEWAY_PID:-}" ] && kill "$GATEWAY_PID" 2>/dev/null || true
  [ -n "${TESSERAD_PID:-}" ] && kill "$TESSERAD_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/tesserad" --socket "$WORK/t.sock" --data "$WORK/data" --argon2-ops 1 --argon2-mem-kib 64 --log-level warning 2>"$WORK/tesserad.log" &
TESSERAD_PID=$!
for _ in $(seq 100); do [ -S "$WORK/t.sock" ] && break; sleep 0.1; done
echo "correct horse" | "$BIN/tessera" --socket "$WORK/t.sock" user add bench >/dev/null
TOKEN=$(echo "correct horse" | "$BIN/tessera" --socket "$WORK/t.sock" login bench | head -1)

"$BIN/tessera-gateway" --listen 127.0.0.1:0 --tessera-socket "$WORK/t.sock" --log-level warning 2>"$WORK/gateway.log" &
GATEWAY_PID=$!
# --log-level warning hides the "serving" line: ask the kernel which port the gateway took.
PORT=""
for _ in $(seq 100); do
  PORT=$(ss -Hltnp 2>/dev/null | awk -v pid="pid=$GATEWAY_PID," '$0 ~ pid { split($4, a, ":"); print a[length(a)] }' | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "tessera-gateway did not start:" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
URL=http://127.0.0.1:$PORT

# Every authenticated request must be answered 200: a refused token would measure errors.
curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/auth/user" >/dev/null
curl -sf -H "Cookie: unleash-session=$TOKEN" "$URL/api/admin/user" >/dev/null

run() { # name, path, header...
  local name=$1 path=$2; shift 2
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$URL$path")
  if echo "$out" | grep -q "Non-2xx"; then echo "$name: non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  echo "$name $rps $p50 $p99"
}

HEALTH=$(run health /health)
UNLEASH=$(run unleash /api/admin/user -H "Cookie: unleash-session=$TOKEN")
V1=$(run v1 /v1/auth/user -H "Authorization: Bearer $TOKEN")

health_rps=$(echo "$HEALTH" | awk '{ print $2 }')
printf '\n%-44s %12s %10s %10s %22s\n' "route ($CONNECTIONS connections, ${SECONDS_PER_RUN} s each)" "requests/s" "p50" "p99" "share of /health's r/s"
for line in "$HEALTH" "$UNLEASH" "$V1"; do
  set -- $line
  case $1 in
    health) label="GET /health (no Tessera call)" ;;
    unleash) label="GET /api/admin/user (VERIFY with user)" ;;
    v1) label="GET /v1/auth/user (VERIFY with user, keys)" ;;
  esac
  printf '%-44s %12s %10s %10s %22s\n' "$label" "$2" "$3" "$4" "$(awk -v a="$2" -v b="$health_rps" 'BEGIN { printf "%.2f", a / b }')"
done
