#!/usr/bin/env bash
# CI runs the showcase (scripts/demo.sh) and checks its summary: the fleet converged after a
# gateway was cut off and ran on a draining battery.   tests/e2e/demo.sh path/to/cortex-edge
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out=$(cd "$root" && timeout 300 bash scripts/demo.sh 2>&1)
if grep -q '^converged: yes$' <<<"$out"; then echo "ok demo-converges"; else echo "FAIL demo-converges: $(tail -n 15 <<<"$out" | tr '\n' ' ')"; fi
grep -q 'PriorityOnly' <<<"$out"; if [ $? -eq 0 ]; then echo "ok demo-priority-only-on-low-battery"; else echo "FAIL demo-priority-only-on-low-battery: no PriorityOnly decision printed"; fi
grep -q 'Defer .*battery' <<<"$out"; if [ $? -eq 0 ]; then echo "ok demo-defers-on-critical-battery"; else echo "FAIL demo-defers-on-critical-battery: no battery deferral printed"; fi
# It cleans up after itself: no agent, broker or sensor of the demo is left running.
sleep 1
left=$(pgrep -af 'cortex-edge-demo\.' || true)
if [ -z "$left" ]; then echo "ok demo-cleans-up"; else echo "FAIL demo-cleans-up: still running: $(tr '\n' ' ' <<<"$left")"; pkill -9 -f 'cortex-edge-demo\.' || true; fi
exit 0
