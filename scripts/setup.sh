#!/usr/bin/env bash
# Installs what the build, the tests and the benchmarks need on a fresh Debian 12 machine with the
# .NET SDK: static archives for the AOT link, mosquitto for broker tests, and tools for benchmarks.
# Idempotent: packages already installed are not touched.
set -euo pipefail

packages=(liblz4-dev libsqlite3-dev mosquitto mosquitto-clients rabbitmq-server openssl hyperfine time sqlite3)
missing=()
for p in "${packages[@]}"; do
  # dpkg-query, not dpkg -s: with a foreign architecture added (arm64 cross builds) a bare name is ambiguous.
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The distribution starts a system-wide mosquitto on 1883; tests start their own on free ports,
# so the system one is left alone.
command -v dotnet >/dev/null || { echo "setup: the .NET SDK (dotnet) is required" >&2; exit 1; }
