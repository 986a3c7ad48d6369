#!/usr/bin/env bash
# The CortexEdge showcase, for a new user with only the .NET SDK: a leader and two edge gateways
# on loopback, simulated sensors publishing, one gateway cut off and running on a draining battery
# (the sync policy goes priority-only, then defers, while ingest carries on), then power and link
# return and the fleet converges. Prints each decision with its reason and a summary table.
# About a minute; cleans up after itself.   ./scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=out/publish/linux-x64/cortex-edge
if [ ! -x "$bin" ] || [ -n "$(find src -newer "$bin" -name '*.cs' -print -quit)" ]; then
  scripts/setup.sh
  echo "demo: publishing the binary (Native AOT, about a minute)..."
  build/publish.sh linux-x64 >/dev/null
fi
command -v mosquitto >/dev/null || scripts/setup.sh
work=$(mktemp -d /tmp/cortex-edge-demo.XXXXXX)
pids=()
cleanup() { # newest first: sensors stop before the broker they publish to
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[i]}" 2>/dev/null; wait "${pids[i]}" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { local deadline=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done; }

bold "The binary: one file, SQLite and LZ4 inside"
ls -l "$bin" | awk '{print $5" bytes", $9}'
"$bin" info

mqtt=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$mqtt" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 & pids+=($!)
wait_for 10 bash -c "echo > /dev/tcp/127.0.0.1/$mqtt"

# Fake /sys trees for each gateway's battery and network: the agent reads them like the real ones.
fake_node() { # fake_node NAME
  local root="$work/$1/sys"
  mkdir -p "$root/power/BAT0" "$root/power/AC" "$root/net/eth0/device" "$root/proc"
  echo Battery > "$root/power/BAT0/type"; echo 100 > "$root/power/BAT0/capacity"; echo Full > "$root/power/BAT0/status"
  echo Mains > "$root/power/AC/type"; echo 1 > "$root/power/AC/online"
  echo up > "$root/net/eth0/operstate"; echo 1 > "$root/net/eth0/carrier"; echo 1 > "$root/net/eth0/type"
  printf 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' > "$root/proc/route"
}
battery() { echo "$2" > "$work/$1/sys/power/BAT0/capacity"; echo "$3" > "$work/$1/sys/power/BAT0/status"; echo "$4" > "$work/$1/sys/power/AC/online"; }
link() { echo "$2" > "$work/$1/sys/net/eth0/operstate"; [ "$2" = up ] && echo 1 > "$work/$1/sys/net/eth0/carrier" || echo 0 > "$work/$1/sys/net/eth0/carrier"; }

agent() { # agent NAME ROLE API_PORT
  local name=$1 role=$2 port=$3 node="" ingest="" policy=""
  if [ "$role" = edge ]; then
    fake_node "$name"
    node="\"node\": \"$name\","
    ingest="\"ingest\": { \"rules\": [ { \"topic\": \"site/$name/+\", \"series\": \"$name.{1}\", \"format\": \"number\" } ], \"batchMaxDelayMs\": 50 },"
    # Bounds and pulls of seconds (defaults are a minute to hours, pulls every 5 min) so the short demo
    # shows bursts and converges; alarms are a priority collection: they still go on a low battery.
    policy="\"manifest\": { \"alarms\": { \"direction\": \"both\", \"priority\": 0 } }, \"syncPolicy\": { \"checkIntervalSeconds\": 1, \"pullIntervalSeconds\": 2, \"freshnessSeconds\": { \"high\": 2, \"normal\": 20, \"low\": 30 }, \"burstLeadSeconds\": 1, \"powerSupplyRoot\": \"$work/$name/sys/power\", \"netClassRoot\": \"$work/$name/sys/net\", \"procNetRoot\": \"$work/$name/sys/proc\" },"
  fi
  mkdir -p "$work/$name"
  cat > "$work/$name/agent.json" <<CONF
{ "role": "$role", $node "fleet": "demo", "dataDirectory": "$work/$name/data",
  "brokers": { "upstream": { "host": "127.0.0.1", "port": $mqtt }, "local": { "host": "127.0.0.1", "port": $mqtt } },
  $ingest $policy
  "api": { "bind": "127.0.0.1:$port" } }
CONF
  "$bin" run --config "$work/$name/agent.json" > "$work/$name/agent.log" 2>&1 & pids+=($!)
  wait_for 30 curl -sf "http://127.0.0.1:$port/healthz" || { echo "demo: $name did not start:"; tail "$work/$name/agent.log"; exit 1; }
}
status() { curl -s "http://127.0.0.1:$2/v1/sync/status" | python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"  $1: {s.get('decision','?'):<12} {s.get('reason','')}  (pending {s.get('pendingOps',0)} ops)\")"; }

bold "A leader and two edge gateways (gw-a, gw-b) on one broker"
pl=$(free_port); pa=$(free_port); pb=$(free_port)
agent leader leader "$pl"; agent gw-a edge "$pa"; agent gw-b edge "$pb"
echo "  leader :$pl   gw-a :$pa   gw-b :$pb   broker :$mqtt"

bold "Sensors publish (mosquitto_pub, as a sensor or Node-RED would)"
( i=0; while true; do i=$((i+1))
    mosquitto_pub -p "$mqtt" -t site/gw-a/temp -m "2$((i % 10)).5" -q 1
    mosquitto_pub -p "$mqtt" -t site/gw-b/temp -m "1$((i % 10)).25" -q 1
    sleep 0.1; done ) & pids+=($!)
"$bin" put assets pump-a '{"site":"a","rpm":1450}' --db "$work/gw-a/data" >/dev/null
"$bin" put assets pump-b '{"site":"b","rpm":1480}' --db "$work/gw-b/data" >/dev/null
sleep 3
status gw-a "$pa"; status gw-b "$pb"

bold "gw-b loses its uplink: it keeps ingesting, the policy defers"
link gw-b down; sleep 3; status gw-b "$pb"
"$bin" put alarms b-overheat '{"level":"high","site":"b"}' --db "$work/gw-b/data" >/dev/null
echo "  (an alarm is written on gw-b while it is cut off)"

bold "gw-b's link is back but mains power is lost: the battery drains"
link gw-b up
battery gw-b 60 Discharging 0; sleep 2; status gw-b "$pb"
battery gw-b 25 Discharging 0; sleep 2; status gw-b "$pb"
battery gw-b 8 Discharging 0; sleep 2; status gw-b "$pb"
"$bin" put assets pump-b '{"site":"b","rpm":1300,"note":"throttled"}' --db "$work/gw-b/data" >/dev/null
echo "  (gw-b keeps working: a write while deferred)"

bold "The sun comes up: charging, everything goes"
battery gw-b 40 Charging 1; sleep 4; status gw-b "$pb"

bold "Converging"
converged=no
for _ in $(seq 1 60); do
  l=$(curl -s "http://127.0.0.1:$pl/v1/docs/assets" | python3 -c 'import json,sys; print(sorted((d["key"],json.dumps(d["doc"],sort_keys=True)) for d in json.load(sys.stdin)))')
  a=$(curl -s "http://127.0.0.1:$pa/v1/docs/assets" | python3 -c 'import json,sys; print(sorted((d["key"],json.dumps(d["doc"],sort_keys=True)) for d in json.load(sys.stdin)))')
  b=$(curl -s "http://127.0.0.1:$pb/v1/docs/assets" | python3 -c 'import json,sys; print(sorted((d["key"],json.dumps(d["doc"],sort_keys=True)) for d in json.load(sys.stdin)))')
  alarm=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/v1/docs/alarms/b-overheat")
  if [ "$l" = "$a" ] && [ "$a" = "$b" ] && [ "$alarm" = 200 ] && grep -q throttled <<<"$l"; then converged=yes; break; fi
  sleep 0.5
done
echo "  gw-a sees gw-b's alarm: HTTP $alarm; assets identical on all three: $converged"

bold "Summary"
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1==m {print $2}'; }
printf '  %-8s %10s %10s %10s %12s\n' node ingested bursts backlog decisions
for n in gw-a:$pa gw-b:$pb; do
  name=${n%%:*}; port=${n##*:}
  printf '  %-8s %10s %10s %10s %12s\n' "$name" "$(metric "$port" ce_ingest_readings_stored_total)" "$(metric "$port" ce_sync_bursts_total)" "$(metric "$port" ce_sync_backlog_ops)" "$(metric "$port" ce_sync_decision_changes_total)"
done
series=$(curl -s "http://127.0.0.1:$pl/v1/series" | python3 -c 'import json,sys; print(", ".join("%s=%d" % (s["name"], s["count"]) for s in json.load(sys.stdin)))')
echo "  leader holds series: $series"
echo "converged: $converged"
[ "$converged" = yes ]
