#!/bin/bash
# Instructions per request of one scenario, counted by callgrind on the release binary:
# (total of a run with N2 requests - total with N1) / (N2 - N1), so start-up and set-up
# cancel out. Usage: benches/callgrind/run.sh fetch|list|update|create N1 N2
# Needs valgrind and python3; builds nothing (run `cargo build --release` first).
# LOG_LEVEL=info counts the default configuration, its request log going to a file (the
# log's writer thread included: callgrind counts every thread); the default is warn.
set -euo pipefail
level=${LOG_LEVEL:-warn}
mode=$1 n1=$2 n2=$3
here=$(cd "$(dirname "$0")" && pwd)
binary=$here/../../target/release/twilio-conversations-emulator
out=$(mktemp -d)
total() {
  local n=$1 port=$((20000 + RANDOM % 20000))
  valgrind --tool=callgrind --callgrind-out-file="$out/$mode.$n.out" "$binary" --port "$port" --log-level "$level" \
    >/dev/null 2>"$out/valgrind.$n.log" &
  local pid=$!
  python3 "$here/client.py" "$port" "$n" "$mode"
  kill -INT "$pid"
  wait "$pid"
  awk '/^(summary|totals):/ {print $2; exit}' "$out/$mode.$n.out"
}
first=$(total "$n1")
second=$(total "$n2")
echo "$mode, --log-level $level${PAGE:+, PAGE=$PAGE}: $(((second - first) / (n2 - n1))) instructions/request (profiles in $out)"
