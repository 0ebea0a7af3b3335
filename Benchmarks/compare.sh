#!/usr/bin/env bash
# Tessera against its floors and against Redis, from nothing, in one run.
#
#   Benchmarks/compare.sh                 # 1,000,000 sessions, 10 s per cell
#   SESSIONS=100000 SECONDS_PER_RUN=3 Benchmarks/compare.sh
#   CONFIGURATION=debug ...               # the smoke run's: reuses the test build (figures meaningless)
#
# Installs redis-server when missing, builds in release mode, seeds a data directory through
# the bulk-load path, starts tesserad and a non-persistent Redis on temporary Unix sockets,
# loads the same keys into Redis, then runs the same closed-loop clients against both and
# prints tables with ratios. Every reply is checked; a wrong answer fails the run.
#
# Verify is measured with two clients. epoll-load (Benchmarks/EpollClient, C, one thread) is
# the goal's: it costs less per request than either server, so the servers are what it
# measures. tessera-load (SwiftNIO) is heavier; at 50 x 1 it saturates its own core before
# either server does, which flatters whichever server is slower.
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-1000000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
ARGON2_OPS=${ARGON2_OPS:-2}
ARGON2_MEM_KIB=${ARGON2_MEM_KIB:-65536}
CORES=$(nproc)
CONFIGURATION=${CONFIGURATION:-release}

scripts/install-deps --bench
for product in tesserad tessera-load; do swift build -c "$CONFIGURATION" --product "$product" >&2; done
BIN=$(swift build -c "$CONFIGURATION" --show-bin-path)
LOAD_BIN=$BIN

WORK=$(mktemp -d /tmp/tessera-bench.XXXXXX)
"${CC:-cc}" -O2 -Wall -o "$WORK/epoll-load" Benchmarks/EpollClient/epoll-load.c
TESSERA_SOCK=$WORK/tessera.sock
REDIS_SOCK=$WORK/redis.sock
cleanup() {
  [ -n "${TESSERAD_PID:-}" ] && kill "$TESSERAD_PID" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
  [ -n "${FLOOR_PID:-}" ] && kill "$FLOOR_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "# seeding $SESSIONS sessions" >&2
"$LOAD_BIN/tessera-load" seed --data "$WORK/data" --sessions "$SESSIONS" --tokens "$WORK/tokens" \
  --argon2-ops "$ARGON2_OPS" --argon2-mem-kib "$ARGON2_MEM_KIB" >&2
FIRST_TOKEN=$(head -1 "$WORK/tokens")

# Start: time from exec to the first verify answered, with the sessions on disk.
START_NS=$(date +%s%N)
"$BIN/tesserad" --socket "$TESSERA_SOCK" --data "$WORK/data" --log-level notice \
  --argon2-ops "$ARGON2_OPS" --argon2-mem-kib "$ARGON2_MEM_KIB" 2>"$WORK/tesserad.log" &
TESSERAD_PID=$!
FIRST_VERIFY=$("$LOAD_BIN/tessera-load" first-verify --socket "$TESSERA_SOCK" --token "$FIRST_TOKEN" --since-ns "$START_NS")
# Verify answers from LMDB until the session index is filled in the background; the table
# measures the steady state, after the fill (its time is printed with the first verify).
for _ in $(seq 1200); do grep -q "session index filled" "$WORK/tesserad.log" && break; sleep 0.05; done
INDEX_FILL_MS=$(grep "session index filled" "$WORK/tesserad.log" | grep -o "milliseconds=[0-9]*" | head -1 | cut -d= -f2)

redis-server --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --port 0 --save "" --appendonly no \
  --daemonize no --loglevel warning >/dev/null &
REDIS_PID=$!
for _ in $(seq 100); do [ -S "$REDIS_SOCK" ] && break; sleep 0.05; done
"$LOAD_BIN/tessera-load" redis-load --socket "$REDIS_SOCK" --tokens "$WORK/tokens" >&2

run() { "$LOAD_BIN/tessera-load" run --json --seconds "$SECONDS_PER_RUN" "$@"; }
field() { python3 -c "import json,sys; rows=[json.loads(l) for l in sys.stdin if l.startswith('{')]; r=[x for x in rows if x['op']=='$1'][0]; print(r['$2'])"; }

light() { "$WORK/epoll-load" --seconds "$SECONDS_PER_RUN" "$@"; }

declare -A T R TN RN F
for cell in "1 1" "50 1" "50 16"; do
  set -- $cell
  T[$1x$2]=$(light --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c "$1" -d "$2")
  R[$1x$2]=$(light --target redis --socket "$REDIS_SOCK" --tokens "$WORK/tokens" -c "$1" -d "$2")
  TN[$1x$2]=$(run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c "$1" -d "$2")
  RN[$1x$2]=$(run --target redis --socket "$REDIS_SOCK" --tokens "$WORK/tokens" -c "$1" -d "$2")
done

# Memory beyond the mapped database: anonymous resident memory of tesserad after the load.
RSS_ANON_KIB=$(awk '/RssAnon/ {print $2}' /proc/$TESSERAD_PID/status)
RSS_FILE_KIB=$(awk '/RssFile/ {print $2}' /proc/$TESSERAD_PID/status)
# Redis's resident memory for the same sessions (each a JSON session record), side by side.
REDIS_RSS_KIB=$(awk '/VmRSS/ {print $2}' /proc/$REDIS_PID/status)

# The transport floor: the same VERIFY (session index, digest, reply encoding) behind a bare
# epoll loop, on a copy of the data (the store takes one process per data directory). The
# gap between it and tesserad is what SwiftNIO's per-request path costs.
cp -r "$WORK/data" "$WORK/floor-data"
"$LOAD_BIN/tessera-load" serve-floor --data "$WORK/floor-data" --socket "$WORK/floor.sock" 2>"$WORK/floor.log" &
FLOOR_PID=$!
for _ in $(seq 1200); do grep -q "serving on" "$WORK/floor.log" && break; sleep 0.05; done
for cell in "1 1" "50 1" "50 16"; do
  set -- $cell
  F[$1x$2]=$(light --target tessera --socket "$WORK/floor.sock" --tokens "$WORK/tokens" -c "$1" -d "$2")
done
kill "$FLOOR_PID"
wait "$FLOOR_PID" 2>/dev/null || true
FLOOR_PID=
rm -rf "$WORK/floor-data"

# Login throughput against the raw argon2id rate of the pool, measured now.
LOGIN=$(run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c $((CORES * 4)) -d 1 --mix login:100)
ARGON2_FLOOR=$("$LOAD_BIN/tessera-load" floor-argon2 --threads "$CORES" --seconds "$SECONDS_PER_RUN" --argon2-ops "$ARGON2_OPS" --argon2-mem-kib "$ARGON2_MEM_KIB")

# Verify p99 alone, then while logins saturate the hashing pool.
IDLE=$(run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c 50 -d 1)
run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c $((CORES * 4)) -d 1 --mix login:100 --seconds $((SECONDS_PER_RUN + 2)) >/dev/null &
STORM_PID=$!
sleep 1
STORM=$(run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c 50 -d 1)
wait $STORM_PID || true

# Durable writes: logout (each reply after its commit) against one fsync per write.
LOGOUTS=$((SESSIONS / 4))
WRITES=$(run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c 50 -d 16 --mix logout:100 --logout-tokens "$LOGOUTS")
# Refresh chains: each slot logs in once, then refreshes with the token it got each time.
REFRESHES=$(run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c 10 -d 4 --mix refresh:100)
# The same at the logouts' load: 800 chains in flight, so each commit carries more refreshes.
REFRESHES_WIDE=$(run --target tessera --socket "$TESSERA_SOCK" --tokens "$WORK/tokens" -c 50 -d 16 --mix refresh:100)
WRITE_FLOOR=$("$LOAD_BIN/tessera-load" floor-write --dir "$WORK/floor" --seconds "$SECONDS_PER_RUN")
# The ceiling of 10 x 4: replies follow their commit, so the 40 in flight split into two cohorts
# that take turns at the one writer. The cheapest commit of 20 writes (20 small puts in key
# order on one B-tree, no other work) bounds what any 20 refreshes per commit can reach.
WRITE_CEILING=$("$LOAD_BIN/tessera-load" floor-write --dir "$WORK/ceiling" --seconds "$SECONDS_PER_RUN" --puts-per-commit 20)

python3 - "$SESSIONS" "$FIRST_VERIFY" "$RSS_ANON_KIB" "$RSS_FILE_KIB" "$ARGON2_FLOOR" "$CORES" "$REDIS_RSS_KIB" "${INDEX_FILL_MS:-?}" <<PY
import json, re, sys
sessions, first, anon, filekib, argon2, cores, redis_rss, fill_ms = sys.argv[1:9]
def rows(text): return {r['op']: r for r in (json.loads(l) for l in text.splitlines() if l.startswith('{'))}
T = {"1x1": rows('''${T[1x1]}'''), "50x1": rows('''${T[50x1]}'''), "50x16": rows('''${T[50x16]}''')}
R = {"1x1": rows('''${R[1x1]}'''), "50x1": rows('''${R[50x1]}'''), "50x16": rows('''${R[50x16]}''')}
TN = {"1x1": rows('''${TN[1x1]}'''), "50x1": rows('''${TN[50x1]}'''), "50x16": rows('''${TN[50x16]}''')}
RN = {"1x1": rows('''${RN[1x1]}'''), "50x1": rows('''${RN[50x1]}'''), "50x16": rows('''${RN[50x16]}''')}
F = {"1x1": rows('''${F[1x1]}'''), "50x1": rows('''${F[50x1]}'''), "50x16": rows('''${F[50x16]}''')}
print(f"\nTessera vs Redis GET, {int(sessions):,} sessions, Unix sockets, every reply checked; client epoll-load (C)\n")
print("| load (conns x in flight) | Tessera verify/s | Redis GET/s | ratio | Tessera p99 µs | Redis p99 µs | transport floor verify/s | floor / Redis |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for cell in ["1x1", "50x1", "50x16"]:
    t, r, f = T[cell]["verify"], R[cell]["redis-get"], F[cell]["verify"]
    print(f"| {cell} | {t['ops_per_sec']:,.0f} | {r['ops_per_sec']:,.0f} | {t['ops_per_sec']/r['ops_per_sec']:.2f} | {t['p99_us']:.0f} | {r['p99_us']:.0f} | {f['ops_per_sec']:,.0f} | {f['ops_per_sec']/r['ops_per_sec']:.2f} |")
print("\nThe same with tessera-load (SwiftNIO; its one event loop is the bottleneck at 50x1)\n")
print("| load | Tessera verify/s | Redis GET/s | ratio |")
print("|---|---:|---:|---:|")
for cell in ["1x1", "50x1", "50x16"]:
    t, r = TN[cell]["verify"], RN[cell]["redis-get"]
    print(f"| {cell} | {t['ops_per_sec']:,.0f} | {r['ops_per_sec']:,.0f} | {t['ops_per_sec']/r['ops_per_sec']:.2f} |")
login = rows('''$LOGIN''')["login"]
floor = float(re.search(r": ([0-9.]+) /s", '''$ARGON2_FLOOR''').group(1))
idle, storm = rows('''$IDLE''')["verify"], rows('''$STORM''')["verify"]
writes = rows('''$WRITES''')["logout"]
refreshes = rows('''$REFRESHES''')["refresh"]
refreshes_wide = rows('''$REFRESHES_WIDE''')["refresh"]
wfloor = float(re.search(r": ([0-9.]+) /s", '''$WRITE_FLOOR''').group(1))
wceiling = float(re.search(r": ([0-9.]+) /s", '''$WRITE_CEILING''').group(1))
print()
print("| measure | Tessera | floor / baseline | ratio | goal |")
print("|---|---:|---:|---:|---|")
print(f"| login/s vs raw argon2id verify on {cores} threads | {login['ops_per_sec']:.1f} | {floor:.1f} | {login['ops_per_sec']/floor:.2f} | >= 0.95 |")
print(f"| verify p99 µs under a login storm vs idle (50x1) | {storm['p99_us']:.0f} | {idle['p99_us']:.0f} | {storm['p99_us']/idle['p99_us']:.2f} | <= 2 |")
print(f"| durable logouts/s (50x16) vs one fsync per write | {writes['ops_per_sec']:,.0f} | {wfloor:,.0f} | {writes['ops_per_sec']/wfloor:.1f} | >= 20 |")
print(f"| durable refreshes/s (10x4 chains) vs one fsync per write | {refreshes['ops_per_sec']:,.0f} | {wfloor:,.0f} | {refreshes['ops_per_sec']/wfloor:.1f} | >= 20 |")
print(f"| ceiling at 10x4: 20 time-ordered puts per commit, no other work, vs one fsync per write | {wceiling:,.0f} | {wfloor:,.0f} | {wceiling/wfloor:.1f} | |")
print(f"| durable refreshes/s (50x16 chains) vs one fsync per write | {refreshes_wide['ops_per_sec']:,.0f} | {wfloor:,.0f} | {refreshes_wide['ops_per_sec']/wfloor:.1f} | |")
print(f"| {first} | | | | < 50 ms |")
print(f"| session index filled in the background after start | {fill_ms} ms | | | (verify reads LMDB until then) |")
print(f"| resident memory after the runs: anonymous (the session index's table in it) + mapped file | {int(anon)/1024:.1f} MiB + {int(filekib)/1024:.1f} MiB | | | |")
print(f"| resident memory, anonymous + mapped file, vs Redis (VmRSS) | {(int(anon)+int(filekib))/1024:.1f} MiB | {int(redis_rss)/1024:.1f} MiB | {(int(anon)+int(filekib))/int(redis_rss):.2f} | <= 1.0 |")
for name, t in [("login", login), ("storm verify", storm), ("logout", writes), ("refresh", refreshes), ("refresh 50x16", refreshes_wide)]:
    if t["failed"]:
        print(f"!! {name}: {t['failed']} failed replies")
PY
