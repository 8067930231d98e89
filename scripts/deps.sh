#!/usr/bin/env bash
# deps.sh: make sure the system packages zmqchat needs are installed.
# On Debian as root it installs what is missing with apt-get; otherwise
# (another user, or macOS) it prints the exact command to run and fails.
# Usage: scripts/deps.sh [tmux ...]
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
# On macOS, Homebrew's sqlite is keg-only (no pkg-config file on the path);
# the driver looks for it under Homebrew's opt/sqlite by itself.
if [ "$(uname -s)" = Darwin ]; then
  brew_prefix=$(brew --prefix 2>/dev/null || echo /opt/homebrew)
  [ -e "$brew_prefix/opt/sqlite/include/sqlite3.h" ] || missing+=(libsqlite3-dev)
elif ! pkg-config --exists sqlite3 2>/dev/null; then
  missing+=(libsqlite3-dev)
fi
for extra in "$@"; do
  # A command, named by its package where the two differ.
  case "$extra" in
    ip) pkg=iproute2 ;;
    nft) pkg=nftables ;;
    *) pkg=$extra ;;
  esac
  command -v "$extra" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(uname -s)" = Darwin ]; then
  # Homebrew's names: zeromq is libzmq, sqlite brings its pkg-config file.
  brew=()
  for m in "${missing[@]}"; do
    case "$m" in
      libzmq3-dev) brew+=(zeromq) ;;
      libsqlite3-dev) brew+=(sqlite) ;;
      npm) brew+=(node) ;;
      *) brew+=("$m") ;;
    esac
  done
  echo "zmqchat needs: ${brew[*]}. Install them with Homebrew (https://brew.sh):" >&2
  echo "  brew install ${brew[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "zmqchat needs libzmq (with its headers), SQLite 3 (with its headers) and pkg-config; this system has no apt-get: install them with its package manager" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "zmqchat needs: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
