#!/usr/bin/env bash
# Runs the benchmarks, each beside its peer in the same run, and writes docs/BENCHMARKS.md.
#   scripts/bench.sh [suite ...]      CE_BENCH_SCALE=0.2 scripts/bench.sh   (smaller, faster run)
# Peers: SQLite (linked in), mosquitto_pub / MQTT.js, usearch / hnswlib-node, Automerge (npm,
# installed into out/bench-peers). Also writes docs/benchmarks.json (one entry per figure).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
peers="$PWD/out/bench-peers"
mkdir -p "$peers"
if command -v npm >/dev/null 2>&1 && [ ! -d "$peers/node_modules/mqtt" ]; then
  (cd "$peers" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund mqtt usearch hnswlib-node @automerge/automerge >/dev/null 2>&1) \
    || echo "bench: some npm peers could not be installed; their rows will say so"
fi
export CE_BENCH_PEERS="$peers"
build/publish.sh linux-x64 >/dev/null
dotnet build CortexEdge.sln -c Release -warnaserror >/dev/null
dotnet tests/Edge.Benchmarks/bin/Release/net9.0/Edge.Benchmarks.dll --out docs/BENCHMARKS.md "$@"
