#!/usr/bin/env bash
# mutate.sh: mutation testing of internal/ with gremlins, a package at a
# time against that package's own tests, then a table of efficacy per
# package. The full listing (every mutant and its fate) goes to
# bin/mutate/<package>.txt. Usage: scripts/mutate.sh [package dir ...]
set -euo pipefail
cd "$(dirname "$0")/.."
GREMLINS="go run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0"
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(internal/msg internal/store internal/display internal/keys internal/server internal/transport internal/client internal/chat internal/cli internal/guard)
mkdir -p bin/mutate
printf '| package | killed | lived | not covered | efficacy | mutant coverage |\n|---|---:|---:|---:|---:|---:|\n' > bin/mutate/summary.md
for p in "${pkgs[@]}"; do
  out="bin/mutate/$(echo "$p" | tr / _).txt"
  echo "mutating $p ..." >&2
  # Timeouts are generous: the socket tests take a few seconds under load.
  $GREMLINS unleash --workers 1 --timeout-coefficient 10 "./$p" > "$out" 2>&1 || true
  killed=$(sed -n 's/^Killed: \([0-9]*\), Lived: \([0-9]*\), Not covered: \([0-9]*\).*/\1/p' "$out")
  lived=$(sed -n 's/^Killed: \([0-9]*\), Lived: \([0-9]*\), Not covered: \([0-9]*\).*/\2/p' "$out")
  uncovered=$(sed -n 's/^Killed: \([0-9]*\), Lived: \([0-9]*\), Not covered: \([0-9]*\).*/\3/p' "$out")
  eff=$(sed -n 's/^Test efficacy: //p' "$out")
  cov=$(sed -n 's/^Mutator coverage: //p' "$out")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$p" "${killed:-?}" "${lived:-?}" "${uncovered:-?}" "${eff:-?}" "${cov:-?}" >> bin/mutate/summary.md
  grep -E '^ *(LIVED|TIMED OUT)' "$out" | sed "s|^ *|  $p: |" >&2 || true
done
cat bin/mutate/summary.md
