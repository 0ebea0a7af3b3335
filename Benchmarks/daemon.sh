# Sourced by the benchmark scripts that run one tesserad on a seeded data directory:
#   bench_start PRODUCTS...   builds them (CONFIGURATION), sets BIN and WORK (removed at exit)
#   bench_seed_and_serve N    seeds N sessions (tokens in $WORK/tokens; cheap argon2id), starts
#                             tesserad on $SOCK and returns once its session index is filled
bench_start() {
  for product in "$@"; do swift build -c "$CONFIGURATION" --product "$product" >&2; done
  BIN=$(swift build -c "$CONFIGURATION" --show-bin-path)
  WORK=$(mktemp -d /tmp/tessera-bench.XXXXXX)
  SOCK=$WORK/tessera.sock
  trap bench_cleanup EXIT
}

bench_cleanup() {
  [ -n "${TESSERAD_PID:-}" ] && kill "$TESSERAD_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

bench_seed_and_serve() {
  "$BIN/tessera-load" seed --data "$WORK/data" --sessions "$1" --tokens "$WORK/tokens" --argon2-ops 1 --argon2-mem-kib 64 >&2
  "$BIN/tesserad" --socket "$SOCK" --data "$WORK/data" --log-level notice --argon2-ops 1 --argon2-mem-kib 64 2>"$WORK/tesserad.log" &
  TESSERAD_PID=$!
  "$BIN/tessera-load" first-verify --socket "$SOCK" --token "$(head -1 "$WORK/tokens")" --since-ns "$(date +%s%N)" >/dev/null
  for _ in $(seq 1200); do grep -q "session index filled" "$WORK/tesserad.log" && break; sleep 0.05; done
}
