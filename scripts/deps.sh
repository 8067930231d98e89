#!/usr/bin/env bash
# deps.sh: make sure the system packages zmqchat needs are installed.
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails. Usage: scripts/deps.sh [tmux]
set -euo pipefail

# Go itself: the version go.mod names, from go.dev/dl or a distribution.
need=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$(dirname "$0")/../go.mod")
if ! command -v go >/dev/null 2>&1; then
  echo "zmqchat needs Go $need or newer, and there is no go command: install it from https://go.dev/dl/ and put its bin/ on PATH" >&2
  exit 1
fi
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "zmqchat needs Go $need or newer; this is Go $have: install a newer one from https://go.dev/dl/" >&2
  exit 1
fi

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists libzmq 2>/dev/null; then
  missing+=(libzmq3-dev)
fi
# The store's SQLite: the system's library (the Makefile builds with the
# libsqlite3 tag), rather than compiling the driver's own copy of SQLite's
# 250,000 lines for every build mode.
if ! pkg-config --exists sqlite3 2>/dev/null; then
  missing+=(libsqlite3-dev)
fi
for extra in "$@"; do
  command -v "$extra" >/dev/null 2>&1 || missing+=("$extra")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "zmqchat needs: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
