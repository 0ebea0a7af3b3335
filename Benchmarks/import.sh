#!/usr/bin/env bash
# The import's rate, and what it costs the verifies served meanwhile (issue 23, item 6).
#
#   Benchmarks/import.sh                      # 1,000,000 users, verify load for 8 s
#   USERS=100000 SECONDS_PER_RUN=3 Benchmarks/import.sh
#
# Builds in release mode, writes USERS users in the format of `tessera import users`, each with
# its own bcrypt hash string (cost 10: random salt and digest characters; nothing is hashed or
# checked at import), seeds 10,000 sessions, starts tesserad, measures verify (tessera-load,
# 4 connections x 1 in flight, a web host's steady traffic) idle, then again while
# `tessera import users` runs, and prints the import's rate and the ratio of the verify p99s.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-1000000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
CONFIGURATION=${CONFIGURATION:-release}

. Benchmarks/daemon.sh
bench_start tesserad tessera tessera-load

echo "# writing $USERS users" >&2
python3 - "$USERS" "$WORK/users.jsonl" <<'PY'
import random, string, sys
alphabet = "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits
count, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(23)
with open(path, "w") as out:
    for i in range(count):
        hash = "$2b$10$" + "".join(rng.choices(alphabet, k=53))
        out.write('{"username":"user%d","email":"user%d@example.com","external_id":"%d","created_at":1672628645000,"password_hash":"%s"}\n'
                  % (i, i, i, hash))
PY

bench_seed_and_serve 10000

verify() { "$BIN/tessera-load" run --json --seconds "$SECONDS_PER_RUN" --socket "$SOCK" --tokens "$WORK/tokens" -c 4 -d 1 --label "$1"; }
IDLE=$(verify idle)

START_NS=$(date +%s%N)
"$BIN/tessera" --socket "$SOCK" import users "$WORK/users.jsonl" --json >"$WORK/import.json" 2>"$WORK/import.err" &
IMPORT_PID=$!
BUSY=$(verify during-import)
IMPORT_STILL_RUNNING=$(kill -0 "$IMPORT_PID" 2>/dev/null && echo yes || echo no)
wait "$IMPORT_PID"
END_NS=$(date +%s%N)

python3 - "$IDLE" "$BUSY" "$WORK/import.json" "$START_NS" "$END_NS" "$USERS" "$IMPORT_STILL_RUNNING" <<'PY'
import json, sys
idle, busy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
summary = json.load(open(sys.argv[3]))
seconds = (int(sys.argv[5]) - int(sys.argv[4])) / 1e9
users = int(sys.argv[6])
assert summary["created"] == users and not summary["rejected"], summary
rate = users / seconds
ratio = busy["p99_us"] / idle["p99_us"]
print(f"import: {users} users in {seconds:.1f} s = {rate:,.0f} users/s (goal >= 50,000)")
print(f"verify 4 x 1, idle:          {idle['ops_per_sec']:,.0f}/s  p50 {idle['p50_us']} us  p99 {idle['p99_us']} us")
print(f"verify 4 x 1, during import: {busy['ops_per_sec']:,.0f}/s  p50 {busy['p50_us']} us  p99 {busy['p99_us']} us")
print(f"verify p99 during import / idle = {ratio:.2f} (goal <= 2){'' if sys.argv[7] == 'yes' else '  (the import ended before the verify run: raise USERS)'}")
PY
