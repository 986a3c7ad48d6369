#!/usr/bin/env bash
# Publishes the single Native AOT binary `cortex-edge` for linux-x64 or linux-arm64 into
# out/publish/<rid>/. SQLite and LZ4 are linked statically (build/NativeLink.targets).
#   build/publish.sh [linux-x64|linux-arm64]
set -euo pipefail
cd "$(dirname "$0")/.."
rid="${1:-linux-x64}"
out="out/publish/$rid"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

extra=()
case "$rid" in
  linux-x64)
    for p in liblz4-dev libsqlite3-dev; do
      dpkg -s "$p" >/dev/null 2>&1 || { $SUDO apt-get update -qq; $SUDO apt-get install -y -qq "$p"; }
    done
    ;;
  linux-arm64)
    # Cross toolchain from Debian: clang + lld drive the link, the arm64 multiarch -dev packages
    # give the sysroot libraries and the static archives of sqlite3 and lz4.
    need=()
    dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
    for p in clang lld binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu libc6-dev:arm64 liblz4-dev:arm64 libsqlite3-dev:arm64 zlib1g-dev:arm64; do
      dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
    fi
    extra+=(-p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy)
    # The arm64 ILCompiler and runtime packs must come from a registry; say exactly which is absent.
    if ! restore_log=$(dotnet restore src/Edge.Agent/Edge.Agent.csproj -r "$rid" -p:PublishAot=true 2>&1); then
      for pkg in runtime.linux-arm64.Microsoft.DotNet.ILCompiler Microsoft.NETCore.App.Runtime.linux-arm64 runtime.linux-x64.Microsoft.DotNet.ILCompiler; do
        if grep -qi "$pkg" <<<"$restore_log"; then
          echo "publish: the package $pkg for net9.0 cannot be restored from the configured NuGet sources." >&2
          echo "publish: supply it by adding a source that has it (nuget.org does) to NuGet.Config, or place the" >&2
          echo "publish: .nupkg in a folder and run: dotnet nuget add source <folder> -n local-packs" >&2
          exit 3
        fi
      done
      echo "$restore_log" >&2
      exit 1
    fi
    ;;
  *) echo "usage: build/publish.sh [linux-x64|linux-arm64]" >&2; exit 2 ;;
esac

dotnet publish src/Edge.Agent/Edge.Agent.csproj -c Release -r "$rid" -o "$out" "${extra[@]}" -warnaserror
rm -f "$out"/*.pdb "$out"/*.xml
echo "publish: $out/cortex-edge ($(stat -c %s "$out/cortex-edge") bytes)"
