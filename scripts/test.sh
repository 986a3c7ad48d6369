#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, builds, runs every test
# project, publishes the AOT binary and smoke-tests it, validates the CI workflow, and ends with
# one line "N passed, N failed[, N skipped]".
#
# Randomized suites read their sizes from environment variables (CI defaults in README.md) and
# print their seeds; CE_TEST_SEED replays one.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/out/test-results"
rm -rf "$results"; mkdir -p "$results"
passed=0; failed=0; skipped=0

scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

echo "== build"
if ! dotnet build CortexEdge.sln -c Release -warnaserror > "$results/build.log" 2>&1; then
  grep -E 'error|warning' "$results/build.log" | sort -u | head -n 40
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

for proj in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  dotnet test "$proj" -c Release --no-build --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" -- RunConfiguration.TestSessionTimeout=1800000 2>&1 | tail -n 40
  trx="$results/$name.trx"
  if [ -f "$trx" ]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
    p=$(get passed); f=$(get failed); t=$(get total); e=$(get executed)
    p=${p:-0}; f=${f:-0}; t=${t:-0}; e=${e:-0}
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
    # A crashed or aborted host leaves fewer results than tests: count that as a failure.
    [ $((p + f)) -ge "$e" ] || failed=$((failed + 1))
  else
    echo "no results from $name"; failed=$((failed + 1))
  fi
done

echo "== publish (Native AOT, linux-x64)"
if build/publish.sh linux-x64 > "$results/publish.log" 2>&1; then
  tail -n 2 "$results/publish.log"
  smoke=$(scripts/smoke.sh out/publish/linux-x64/cortex-edge); echo "$smoke"
  passed=$((passed + $(grep -c '^ok ' <<<"$smoke"))); failed=$((failed + $(grep -c '^FAIL ' <<<"$smoke")))
  if [ -x tests/e2e/run.sh ]; then
    e2e=$(tests/e2e/run.sh out/publish/linux-x64/cortex-edge 2>&1); echo "$e2e"
    passed=$((passed + $(grep -c '^ok ' <<<"$e2e"))); failed=$((failed + $(grep -c '^FAIL ' <<<"$e2e")))
  fi
else
  tail -n 30 "$results/publish.log"; echo "FAIL publish"; failed=$((failed + 1))
fi

echo "== workflow syntax"
if command -v npx >/dev/null 2>&1; then
  tooldir="$root/out/tools"; mkdir -p "$tooldir"
  if [ ! -x "$tooldir/node_modules/.bin/action-validator" ]; then
    (cd "$tooldir" && npm install --silent --no-audit --no-fund @action-validator/cli >/dev/null 2>&1) || true
  fi
  if [ -x "$tooldir/node_modules/.bin/action-validator" ]; then
    if "$tooldir/node_modules/.bin/action-validator" .github/workflows/build.yml; then
      echo "ok workflow"; passed=$((passed + 1))
    else
      echo "FAIL workflow"; failed=$((failed + 1))
    fi
  else
    echo "skip workflow: @action-validator/cli could not be installed"; skipped=$((skipped + 1))
  fi
else
  echo "skip workflow: npm is not installed"; skipped=$((skipped + 1))
fi

line="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
