#!/usr/bin/env bash
# Smoke test of a published binary: it answers --version, --help and info, carries SQLite and LZ4
# inside, and needs nothing but libc, libm and the loader. One line per check, "ok NAME" or
# "FAIL NAME: why"; exit status 1 if any failed.
#   scripts/smoke.sh out/publish/linux-x64/cortex-edge [runner, e.g. qemu-aarch64-static]
set -uo pipefail
bin="$1"; shift
runner=("$@")
failed=0
report() { if [ "$2" -eq 0 ]; then echo "ok $1"; else echo "FAIL $1: $3"; failed=1; fi; }

out=$("${runner[@]}" "$bin" --version 2>&1); grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+' <<<"$out"; report version $? "$out"
out=$("${runner[@]}" "$bin" --help 2>&1); grep -q 'Usage:' <<<"$out"; report help $? "$out"
out=$("${runner[@]}" "$bin" info 2>&1); grep -Eq '^sqlite +3\.' <<<"$out" && grep -Eq '^lz4 +[0-9]+' <<<"$out"; report info $? "$out"
if [ ${#runner[@]} -eq 0 ]; then
  deps=$(ldd "$bin" 2>&1 | awk '{print $1}' | grep -Ev '^(linux-vdso|libc\.so|libm\.so|/lib|linux-gate)' || true)
  [ -z "$deps" ]; report static-natives $? "unexpected dynamic dependencies: $deps"
fi
ls "$(dirname "$bin")"/*.so >/dev/null 2>&1; [ $? -ne 0 ]; report single-file $? "shared objects beside the binary"
exit $failed
