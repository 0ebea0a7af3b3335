#!/usr/bin/env bash
# A few-second run of every benchmark, for CI: they must build and run; no timing is asserted.
# The socket and gateway benchmarks run on the debug build the test suite just made
# (CONFIGURATION=debug): CI checks that they work, and a release build of its own would cost
# minutes. Their figures mean nothing here; Benchmarks/RESULTS.md's come from release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONFIGURATION=${CONFIGURATION:-debug}

# The socket comparison end to end (Redis included), on a small data set.
SESSIONS=2000 SECONDS_PER_RUN=1 ARGON2_OPS=1 ARGON2_MEM_KIB=64 Benchmarks/compare.sh

# Verify in process against its floors.
WORK=$(mktemp -d /tmp/tessera-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
swift build -c "$CONFIGURATION" --product tessera-load >&2
BIN=$(swift build -c "$CONFIGURATION" --show-bin-path)
"$BIN/tessera-load" seed --data "$WORK/data" --sessions 2000 --tokens "$WORK/tokens" --argon2-ops 1 --argon2-mem-kib 64 \
  --api-keys 200 --api-key-file "$WORK/apikeys"
"$BIN/tessera-load" in-process --data "$WORK/data" --tokens "$WORK/tokens" --api-keys "$WORK/apikeys" --lookups 2000 --rounds 1

# The gateway under wrk: /health against every seed API's authenticated route.
SECONDS_PER_RUN=1 CONNECTIONS=8 ROUNDS=1 Benchmarks/gateway.sh

# TesseraClient.verify from concurrent tasks beside the C client.
SESSIONS=2000 SECONDS_PER_RUN=1 Benchmarks/client.sh

# Importing users while verifies are served.
USERS=20000 SECONDS_PER_RUN=1 Benchmarks/import.sh

# package-benchmark: build and one short pass. Its package depends on this one, and SwiftPM
# refuses a dependency's unsafe flags: no warnings-as-errors there.
(unset TESSERA_STRICT && cd Benchmarks/InProcess && TESSERA_BENCH_SESSIONS=2000 TESSERA_BENCH_SECONDS=1 \
  swift package --allow-writing-to-package-directory benchmark --no-progress)
