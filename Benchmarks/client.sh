#!/usr/bin/env bash
# What TesseraClient costs a web process: TesseraClient.verify from 50 concurrent tasks sharing
# one client, beside the C client epoll-load at 50 connections x 1 in flight, against the same
# tesserad in the same run (issue 24's goal: the library at >= 0.8x the C client's rate).
#
#   Benchmarks/client.sh                        # 100,000 sessions, 10 s per run, each run twice
#   SECONDS_PER_RUN=3 Benchmarks/client.sh
#   CONFIGURATION=debug ...                     # reuses the test build (figures meaningless)
#
# Both clients check every reply (the user id). The runs alternate (C, library, C, library) so
# that a drift of the machine shows in both; the ratio is of the two runs' means.
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-100000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
TASKS=${TASKS:-50}
CONFIGURATION=${CONFIGURATION:-release}

. Benchmarks/daemon.sh
bench_start tesserad tessera-load
"${CC:-cc}" -O2 -Wall -o "$WORK/epoll-load" Benchmarks/EpollClient/epoll-load.c
bench_seed_and_serve "$SESSIONS"

c_client() { "$WORK/epoll-load" --seconds "$SECONDS_PER_RUN" --target tessera --socket "$SOCK" --tokens "$WORK/tokens" -c "$TASKS" -d 1; }
library() { "$BIN/tessera-load" client-verify --json --seconds "$SECONDS_PER_RUN" --socket "$SOCK" --tokens "$WORK/tokens" --tasks "$TASKS"; }
C1=$(c_client); L1=$(library); C2=$(c_client); L2=$(library)

python3 - "$TASKS" "$C1" "$C2" "$L1" "$L2" <<'PY'
import json, sys
tasks = int(sys.argv[1])
def row(text):
    rows = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
    return rows[0]
c = [row(t) for t in sys.argv[2:4]]
l = [row(t) for t in sys.argv[4:6]]
c_rate = sum(r["ops_per_sec"] for r in c) / 2
l_rate = sum(r["ops_per_sec"] for r in l) / 2
print(f"| client ({tasks} concurrent verifies) | verify/s, run 1 | run 2 | p50 µs | p99 µs |")
print("|---|---:|---:|---:|---:|")
print(f"| epoll-load (C, {tasks} connections x 1) | {c[0]['ops_per_sec']:,.0f} | {c[1]['ops_per_sec']:,.0f} | {c[1]['p50_us']} | {c[1]['p99_us']} |")
print(f"| TesseraClient.verify ({tasks} tasks, one client) | {l[0]['ops_per_sec']:,.0f} | {l[1]['ops_per_sec']:,.0f} | {l[1]['p50_us']} | {l[1]['p99_us']} |")
print(f"\nTesseraClient / epoll-load = {l_rate / c_rate:.2f} (goal >= 0.8)")
PY
