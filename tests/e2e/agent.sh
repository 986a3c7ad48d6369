#!/usr/bin/env bash
# The agent daemon end to end with the AOT binary: a real mosquitto, sensor readings published with
# mosquitto_pub, the local API with a token, CLI verbs forwarded to the running agent, SIGTERM
# (clean stop, nothing acknowledged lost) and SIGKILL after acknowledgement (nothing lost).
# Prints "ok NAME" / "FAIL NAME: why" lines.   tests/e2e/agent.sh path/to/cortex-edge
set -uo pipefail
bin="$1"
work=$(mktemp -d /tmp/ce-e2e-agent.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
check() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }
wait_for() { # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done
}

mqtt_port=$(free_port); api_port=$(free_port)
cat > "$work/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence false
CONF
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)
wait_for 10 bash -c "echo > /dev/tcp/127.0.0.1/$mqtt_port" || { echo "FAIL agent-broker: mosquitto did not start"; exit 0; }

echo "e2e-token-$RANDOM$RANDOM" > "$work/token"
cat > "$work/agent.json" <<CONF
{
  "role": "edge", "node": "gw-e2e", "fleet": "e2e",
  "dataDirectory": "$work/data",
  "durability": { "mode": "group", "intervalMs": 10 },
  "brokers": { "local": { "host": "127.0.0.1", "port": $mqtt_port } },
  "ingest": { "rules": [ { "topic": "sensors/+/temp", "series": "{1}.temp", "format": "number" } ],
              "batchMaxReadings": 100, "batchMaxDelayMs": 50 },
  "api": { "bind": "127.0.0.1:$api_port", "tokenFile": "$work/token" }
}
CONF
out=$("$bin" config check "$work/agent.json" 2>&1); check agent-config-check $? "$out"

start_agent() {
  "$bin" run --config "$work/agent.json" >> "$work/agent.log" 2>&1 &
  agent=$!; pids+=($agent)
  wait_for 30 curl -sf "http://127.0.0.1:$api_port/healthz"
}
start_agent; check agent-start $? "$(tail -5 "$work/agent.log")"
wait_for 10 grep -q "Subscribed\|ingest:" "$work/agent.log"

seq 1 200 | sed 's/$/.5/' | mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -q 1 -t sensors/boiler/temp -l
count() { "$bin" range boiler.temp --db "$work/data" 2>/dev/null | grep -o '\],\[' | wc -l; }
wait_for 30 bash -c "[ \$( \"$bin\" range boiler.temp --db \"$work/data\" | grep -o '\\],\\[' | wc -l) -eq 199 ]"
check agent-ingest-forwarded-range $? "expected 200 readings through the agent, got $(( $(count) + 1 ))"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/v1/stats")
[ "$code" = 401 ]; check agent-api-token-required $? "HTTP $code without a token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$work/token")" "http://127.0.0.1:$api_port/v1/stats")
[ "$code" = 200 ]; check agent-api-token-accepted $? "HTTP $code with the token"
metrics=$(curl -s -H "Authorization: Bearer $(cat "$work/token")" "http://127.0.0.1:$api_port/metrics")
grep -q '^ce_ingest_readings_stored_total 200$' <<<"$metrics"; check agent-metrics $? "$(grep ce_ingest_readings <<<"$metrics")"

out=$("$bin" append manual.series 1000,1 2000,2 --db "$work/data" 2>&1); check agent-forwarded-append $? "$out"
out=$("$bin" put assets pump-1 '{"rpm":1450}' --db "$work/data" 2>&1); check agent-forwarded-put $? "$out"
out=$("$bin" get assets pump-1 --db "$work/data" 2>&1); grep -q '"rpm":1450' <<<"$out"; check agent-forwarded-get $? "$out"
"$bin" get assets absent --db "$work/data" >/dev/null 2>&1; rc=$?
[ "$rc" = 1 ]; check agent-forwarded-get-absent $? "exit $rc"

# SIGTERM: exits 0 within the bound; everything acknowledged is on disk.
kill -TERM "$agent"
deadline=$((SECONDS + 25)); while kill -0 "$agent" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
wait "$agent"; rc=$?
[ "$rc" = 0 ]; check agent-sigterm-clean-exit $? "exit code $rc; $(tail -3 "$work/agent.log")"
n=$("$bin" range boiler.temp --db "$work/data" 2>&1 | wc -l)
[ "$n" = 200 ]; check agent-sigterm-nothing-lost $? "$n readings after stop"
n=$("$bin" range manual.series --db "$work/data" 2>&1 | wc -l)
[ "$n" = 2 ]; check agent-sigterm-forwarded-writes-kept $? "$n readings"

# SIGKILL after the readings were acknowledged (stored counter seen): nothing lost on restart.
start_agent
seq 201 400 | sed 's/$/.5/' | mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -q 1 -t sensors/boiler/temp -l
wait_for 30 bash -c "curl -s -H 'Authorization: Bearer $(cat "$work/token")' http://127.0.0.1:$api_port/metrics | grep -q '^ce_ingest_readings_stored_total 200$'"
kill -9 "$agent"; wait "$agent" 2>/dev/null
n=$("$bin" range boiler.temp --db "$work/data" 2>&1 | wc -l)
[ "$n" = 400 ]; check agent-sigkill-acknowledged-kept $? "$n readings after SIGKILL (expected 400)"

# SIGKILL with 200 readings received but not yet written (a batch delay of a minute): they were not
# acknowledged to the broker, so its session hands them to the restarted agent and none is lost.
sed 's/"batchMaxReadings": 100, "batchMaxDelayMs": 50/"batchMaxReadings": 100000, "batchMaxDelayMs": 60000/' "$work/agent.json" > "$work/agent-slow.json"
"$bin" run --config "$work/agent-slow.json" >> "$work/agent.log" 2>&1 &
agent=$!; pids+=($agent)
wait_for 30 curl -sf "http://127.0.0.1:$api_port/healthz"
seq 401 600 | sed 's/$/.5/' | mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -q 1 -t sensors/boiler/temp -l
wait_for 30 bash -c "curl -s -H 'Authorization: Bearer $(cat "$work/token")' http://127.0.0.1:$api_port/metrics | grep -q '^ce_ingest_pending_readings 200$'"
check agent-sigkill-unwritten-received $? "the slow agent did not hold 200 unwritten readings"
kill -9 "$agent"; wait "$agent" 2>/dev/null
start_agent
# Forwarded through the running agent, range prints JSON pairs [ts,value]: take the values either way.
distinct() { "$bin" range boiler.temp --db "$work/data" 2>/dev/null | grep -oE '[0-9]+,[0-9.]+' | cut -d, -f2 | sort -u | wc -l; }
export -f distinct; export bin work
wait_for 30 bash -c '[ "$(distinct)" -eq 600 ]'
check agent-sigkill-unwritten-redelivered $? "$(distinct) distinct readings after SIGKILL and restart (expected 600)"
exit 0
