#!/usr/bin/env bash
# What Tessera's verify costs a web request, measured through tessera-gateway with wrk:
# the same gateway, the same connections, every seed API's authenticated "who am I" route and
# the gateway's floor in one run:
#   GET /health           answered by the gateway alone (the web stack's floor),
#   GET /api/admin/user   Unleash's, by cookie: one VERIFY (with the user) per request,
#   GET /api/v1/me        Rocket.Chat's, by X-Auth-Token and X-User-Id: one VERIFY (with the user),
#   GET /api/v1/user      Elastic Cloud Enterprise's, by bearer: one VERIFY (with the user),
#   GET /v1/auth/user     /v1/auth's, by bearer: one VERIFY (with the user and the API keys).
# (The JWT API has no authenticated route: its login and refresh take credentials in the body.)
# The routes run back to back, ROUNDS times over: each round's share of /health is taken
# against that round's /health, so a slow spell of the machine weighs on both sides of a ratio.
# Prints each route's median requests/s and p50/p99 latency over the rounds, the median of its
# per-round shares of /health's requests/s, and every round's share.
#
#   Benchmarks/gateway.sh                      # 5 rounds, 6 s per route, 50 connections, 2 wrk threads
#   SECONDS_PER_RUN=3 CONNECTIONS=16 ROUNDS=1 Benchmarks/gateway.sh
#   CONFIGURATION=debug ...                    # the smoke run's: reuses the test build (figures meaningless)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-6}
ROUNDS=${ROUNDS:-5}
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
curl -sf -H "Authorization: Bearer $TOKEN" "$URL/api/v1/user" >/dev/null
# Rocket.Chat's clients send the user id their login answered beside the token.
USER_ID=$(curl -sf -H "Content-Type: application/json" -d "{\"resume\": \"$TOKEN\"}" "$URL/api/v1/login" | sed -n 's/.*"userId":"\([^"]*\)".*/\1/p')
[ -n "$USER_ID" ] || { echo "Rocket.Chat's resume login gave no userId" >&2; exit 1; }
curl -sf -H "X-Auth-Token: $TOKEN" -H "X-User-Id: $USER_ID" "$URL/api/v1/me" >/dev/null

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

RESULTS=""
for round in $(seq "$ROUNDS"); do
  RESULTS+="$round $(run health /health)"$'\n'
  RESULTS+="$round $(run unleash /api/admin/user -H "Cookie: unleash-session=$TOKEN")"$'\n'
  RESULTS+="$round $(run rocketchat /api/v1/me -H "X-Auth-Token: $TOKEN" -H "X-User-Id: $USER_ID")"$'\n'
  RESULTS+="$round $(run ece /api/v1/user -H "Authorization: Bearer $TOKEN")"$'\n'
  RESULTS+="$round $(run v1 /v1/auth/user -H "Authorization: Bearer $TOKEN")"$'\n'
done

printf '\n%-44s %12s %10s %10s %22s  %s\n' "route ($CONNECTIONS connections, ${SECONDS_PER_RUN} s each)" "requests/s" "p50" "p99" "share of /health's r/s" "each round"
echo "$RESULTS" | awk -v rounds="$ROUNDS" '
  function median(list, n,   sorted, i, j, t) {
    for (i = 1; i <= n; i++) sorted[i] = list[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (sorted[j] + 0 < sorted[i] + 0) { t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t }
    return n % 2 ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
  }
  NF == 5 { rps[$2, $1] = $3; p50[$2, $1] = $4; p99[$2, $1] = $5 }
  END {
    split("health unleash rocketchat ece v1", names, " ")
    label["health"] = "GET /health (no Tessera call)"
    label["unleash"] = "GET /api/admin/user (VERIFY with user)"
    label["rocketchat"] = "GET /api/v1/me (VERIFY with user)"
    label["ece"] = "GET /api/v1/user (VERIFY with user)"
    label["v1"] = "GET /v1/auth/user (VERIFY with user, keys)"
    for (k = 1; k <= 5; k++) {
      name = names[k]; each = ""
      for (r = 1; r <= rounds; r++) {
        rates[r] = rps[name, r]; shares[r] = rps[name, r] / rps["health", r]
        each = each (r > 1 ? " " : "") sprintf("%.2f", shares[r])
        # latency: the round whose rate is the median one
      }
      m = median(rates, rounds)
      best = 1; for (r = 1; r <= rounds; r++) if ((rates[r] - m) ^ 2 < (rates[best] - m) ^ 2) best = r
      printf "%-44s %12.2f %10s %10s %22.2f  %s\n", label[name], m, p50[name, best], p99[name, best], median(shares, rounds), each
    }
  }'
