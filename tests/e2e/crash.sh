#!/usr/bin/env bash
# Crash test of the AOT binary: `write-load` writes documents in Always and in Group mode and prints
# "ack KEY" once each is acknowledged; it is killed with SIGKILL at random moments; after reopening,
# every acknowledged key must be present with its value. Prints "ok crash-aot" or
# "FAIL crash-aot: ...". Cycles from CE_CRASH_CYCLES (default 30); seed from CE_TEST_SEED (printed).
set -uo pipefail
bin=${1:?usage: tests/e2e/crash.sh path/to/cortex-edge}
cycles=${CE_CRASH_CYCLES:-30}
seed=${CE_TEST_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
work=$(mktemp -d "${TMPDIR:-/tmp}/ce-crash-aot.XXXXXX")
trap 'rm -rf "$work"' EXIT
db="$work/db"
fail() { echo "FAIL crash-aot: seed $seed: $*"; exit 1; }
[ -x "$bin" ] || fail "binary '$bin' is not executable"

total=0
for ((cycle = 0; cycle < cycles; cycle++)); do
  mode=always; (( cycle % 2 )) && mode=group
  prefix="c${cycle}-"
  "$bin" write-load --db "$db" --durability "$mode" --count 10000000 --writers 4 --prefix "$prefix" \
    > "$work/out" 2> "$work/err" &
  pid=$!
  for ((i = 0; i < 3000; i++)); do   # up to 30 s for the first acknowledgement
    grep -q '^ack ' "$work/out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -0 "$pid" 2>/dev/null || fail "cycle $cycle ($mode): write-load exited early: $(head -c 500 "$work/err" | tr "\n" " ")"
  sleep "$(printf '0.%03d' $(( RANDOM % 400 )))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  # Only complete lines count: a line cut by the kill was not fully printed.
  if [ -s "$work/out" ] && [ "$(tail -c 1 "$work/out" | od -An -c | tr -d ' ')" != '\n' ]; then
    sed -i '$d' "$work/out"
  fi
  sed -n 's/^ack \(.*\)$/\1/p' "$work/out" > "$work/acked"
  count=$(wc -l < "$work/acked")
  total=$(( total + count ))
  awk -v p="$prefix" '{ n = substr($0, length(p) + 1); printf "{\"key\":\"%s\",\"doc\":{\"n\":%s,\"v\":\"value-%s\"}}\n", $0, n, $0 }' \
    "$work/acked" > "$work/expected"
  "$bin" scan --db "$db" load --prefix "$prefix" > "$work/scan" 2> "$work/err" \
    || fail "cycle $cycle ($mode): reopen failed: $(head -c 500 "$work/err" | tr "\n" " ")"
  missing=$(grep -Fxv -f "$work/scan" "$work/expected" | head -n 3 | tr "\n" " ")
  [ -z "$missing" ] || fail "cycle $cycle ($mode): acknowledged but missing or wrong after SIGKILL: $missing"
done
[ "$total" -ge "$cycles" ] || fail "only $total writes acknowledged in $cycles cycles"
echo "ok crash-aot"
