#!/usr/bin/env bash
# Sync end to end with the AOT binary: a real mosquitto on a free port, `cortex-edge leader` and two
# nodes that write offline with `cortex-edge put`, sync with `cortex-edge sync` and converge; a
# re-sync applies nothing twice; another node name on a bound database is refused; SIGTERM stops
# the leader cleanly. Prints "ok NAME" / "FAIL NAME: why" lines.   tests/e2e/sync.sh path/to/cortex-edge
set -uo pipefail
bin="$1"
work=$(mktemp -d /tmp/ce-e2e-sync.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
check() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }
wait_for() { # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done
}

port=$(free_port)
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
CONF
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)
wait_for 10 bash -c "echo > /dev/tcp/127.0.0.1/$port" || { echo "FAIL sync-broker: mosquitto did not start"; exit 0; }
broker="127.0.0.1:$port"

# Offline writes before any sync: the leader, node A and node B each write their own and shared keys.
rc=0
"$bin" put --db "$work/leader" cfg site '{"name":"plant","by":"leader"}' >/dev/null || rc=1
for i in 1 2 3 4 5; do
  "$bin" put --db "$work/a" sensors "a$i" "{\"v\":$i,\"by\":\"a\"}" >/dev/null || rc=1
  "$bin" put --db "$work/b" sensors "b$i" "{\"v\":$i,\"by\":\"b\"}" >/dev/null || rc=1
done
"$bin" put --db "$work/a" sensors shared '{"x":1}' >/dev/null || rc=1
"$bin" put --db "$work/b" sensors shared '{"y":2}' >/dev/null || rc=1
check sync-offline-writes $rc "cortex-edge put failed"

"$bin" leader --db "$work/leader" --broker "$broker" --fleet e2e > "$work/leader.log" 2>&1 &
leader=$!; pids+=($leader)
wait_for 30 grep -q "leader serving" "$work/leader.log"; check sync-leader-start $? "$(tail -5 "$work/leader.log")"

sync_node() { timeout 120 "$bin" sync --db "$work/$1" --broker "$broker" --fleet e2e --node "$2" --timeout 60 >> "$work/sync-$1.log" 2>&1; }
rc=0
sync_node a node-a || rc=1
sync_node b node-b || rc=1
sync_node a node-a || rc=1
check sync-rounds $rc "$(tail -n 3 "$work"/sync-*.log)"

# Convergence: the leader holds all 12 documents of sensors, and both nodes see exactly the leader's state.
kill -TERM "$leader"; wait "$leader"; code=$?; check sync-leader-sigterm $code "exit $code: $(tail -5 "$work/leader.log")"
scan() { "$bin" scan --db "$work/$1" sensors 2>&1; "$bin" scan --db "$work/$1" cfg 2>&1; }
lscan=$(scan leader); ascan=$(scan a); bscan=$(scan b)
count=$(printf '%s\n' "$lscan" | grep -c '"by"\|"x"\|"y"')
[ "$count" -ge 12 ] && [ "$lscan" = "$ascan" ] && [ "$lscan" = "$bscan" ]
check sync-converge $? "leader/a/b differ or incomplete: leader=[$lscan] a=[$ascan] b=[$bscan]"
printf '%s\n' "$lscan" | grep '"shared"' | grep -q '"y":2'
check sync-shared-lww $? "the later put of the shared document did not win: $(printf '%s\n' "$lscan" | grep -i shared)"

# Re-sync applies nothing twice: the leader's WAL does not grow.
before=$("$bin" stats --db "$work/leader" 2>/dev/null | grep -i "last" | head -1)
"$bin" leader --db "$work/leader" --broker "$broker" --fleet e2e >> "$work/leader.log" 2>&1 &
leader=$!; pids+=($leader)
wait_for 30 bash -c "[ \$(grep -c 'leader serving' '$work/leader.log') -ge 2 ]"
rc=0; sync_node a node-a || rc=1; sync_node b node-b || rc=1
check sync-resync $rc "$(tail -n 3 "$work"/sync-*.log)"
kill -TERM "$leader"; wait "$leader"
after=$("$bin" stats --db "$work/leader" 2>/dev/null | grep -i "last" | head -1)
[ -n "$before" ] && [ "$before" = "$after" ]
check sync-no-duplicates $? "leader log moved on re-sync: before=[$before] after=[$after]"

# Another node name on a bound database: refused with a clear error and exit 4.
out=$(timeout 60 "$bin" sync --db "$work/a" --broker "$broker" --fleet e2e --node other --timeout 20 2>&1); code=$?
[ "$code" = 4 ] && printf '%s' "$out" | grep -q "node-a"
check sync-name-refused $? "exit $code: $out"

# --watch: node A keeps syncing and receives what node B uploads later; SIGTERM stops it cleanly.
"$bin" leader --db "$work/leader" --broker "$broker" --fleet e2e >> "$work/leader.log" 2>&1 &
leader=$!; pids+=($leader)
wait_for 30 bash -c "[ \$(grep -c 'leader serving' '$work/leader.log') -ge 3 ]"
"$bin" sync --db "$work/a" --broker "$broker" --fleet e2e --node node-a --watch > "$work/watch-a.log" 2>&1 &
watcher=$!; pids+=($watcher)
wait_for 30 grep -q "synced node" "$work/watch-a.log"
"$bin" put --db "$work/b" sensors late '{"from":"b-later"}' >/dev/null
sync_node b node-b
sleep 7 # the leader notice normally arrives at once; 7 s also covers the 5 s poll interval
kill -TERM "$watcher"; wait "$watcher"; code=$?
kill -TERM "$leader"; wait "$leader"
out=$("$bin" get --db "$work/a" sensors late 2>&1)
[ "$code" = 0 ] && printf '%s' "$out" | grep -q "b-later"
check sync-watch $? "exit $code, a has [$out]: $(tail -n 3 "$work/watch-a.log")"

# SIGKILL of a node mid-upload, then of the leader mid-upload: after restarts and a sync, the
# leader's log grew by exactly the ops written (none lost, none applied twice).
lsn() { "$bin" stats --db "$work/leader" 2>/dev/null | awk '$1 == "last_lsn" { print $2 }'; }
base=$(lsn)
"$bin" write-load --db "$work/c" --count 30000 --prefix c --durability none > /dev/null
"$bin" write-load --db "$work/d" --count 30000 --prefix d --durability none > /dev/null
"$bin" leader --db "$work/leader" --broker "$broker" --fleet e2e >> "$work/leader.log" 2>&1 &
leader=$!; pids+=($leader)
wait_for 30 bash -c "[ \$(grep -c 'leader serving' '$work/leader.log') -ge 4 ]"
"$bin" sync --db "$work/c" --broker "$broker" --fleet e2e --node node-c > "$work/sync-c.log" 2>&1 &
victim=$!; pids+=($victim)
sleep 0.4; kill -9 "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
"$bin" sync --db "$work/d" --broker "$broker" --fleet e2e --node node-d --timeout 120 > "$work/sync-d.log" 2>&1 &
survivor=$!; pids+=($survivor)
sleep 0.4; kill -9 "$leader"; wait "$leader" 2>/dev/null
"$bin" leader --db "$work/leader" --broker "$broker" --fleet e2e >> "$work/leader.log" 2>&1 &
leader=$!; pids+=($leader)
wait "$survivor"; code=$?
rc=0; sync_node c node-c || rc=1; sync_node d node-d || rc=1
kill -TERM "$leader"; wait "$leader"
after=$(lsn)
[ "$code" = 0 ] && [ "$rc" = 0 ] && [ "$after" = $((base + 60000)) ]
check sync-sigkill-exact $? "node-d exit $code, resync rc $rc, leader last_lsn $base -> $after (want +60000): $(tail -n 2 "$work/sync-d.log")"

# A leader that keeps only part of its log bootstraps a new node from a snapshot (then deltas):
# the node ends with exactly the leader's documents.
"$bin" leader --db "$work/leader" --broker "$broker" --fleet e2e --log-retention 1000 >> "$work/leader.log" 2>&1 &
leader=$!; pids+=($leader)
wait_for 30 bash -c "[ \$(grep -c 'log retention 1000' '$work/leader.log') -ge 1 ]"
rc=0; sync_node e node-e || rc=1
kill -TERM "$leader"; wait "$leader"
lscan=$(scan leader); escan=$(scan e)
[ "$rc" = 0 ] && grep -q "snapshot(s) imported" "$work/sync-e.log" && [ "$lscan" = "$escan" ]
check sync-snapshot-bootstrap $? "rc $rc: $(tail -n 2 "$work/sync-e.log"); leader and node-e documents equal: $([ "$lscan" = "$escan" ] && echo yes || echo no)"
