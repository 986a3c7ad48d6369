#!/usr/bin/env bash
# Runs every end-to-end script in this folder against a published binary. Each script takes the
# binary path as $1 and prints one line per check: "ok NAME" or "FAIL NAME: why".
#   tests/e2e/run.sh out/publish/linux-x64/cortex-edge
set -uo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
for script in "$here"/*.sh; do
  [ "$(basename "$script")" = "run.sh" ] && continue
  echo "-- $(basename "$script")" >&2
  if ! timeout 900 bash "$script" "$bin"; then
    echo "FAIL $(basename "$script" .sh): exited non-zero"
  fi
done
