#!/usr/bin/env bash
# demo.sh: one tmux session with the part-4 server and four clients, a pane
# each (dev, dev, devops, ALL), each client saying hello, so the whole
# system can be seen working at once.
#   DEMO_RELAYS=1                  two relays between them (make relay-demo):
#                                  ann and bob behind one, cy and eve the other
#   DEMO_POST_PORT, DEMO_PUB_PORT  ports (default 5565 5566; relays take the
#                                  next four)
#   DEMO_ATTACH=0                  set up the session but do not attach
#   DEMO_TMUX="-L name"            tmux server options (tests use their own)
set -euo pipefail
cd "$(dirname "$0")/.."

post=${DEMO_POST_PORT:-5565}
pub=${DEMO_PUB_PORT:-5566}
session=zmqchat-demo
read -r -a tmuxopts <<<"${DEMO_TMUX:-}"
tm() { tmux "${tmuxopts[@]}" "$@"; }
bin=$PWD/bin

tm kill-session -t "$session" 2>/dev/null || true
tm new-session -d -s "$session" -x 200 -y 50 "$bin/mc_server 127.0.0.1 $post $pub"
# The server's pane stays once it has stopped, so its summary can be read.
tm set-option -t "$session" remain-on-exit on >/dev/null
pane() { # command
  tm split-window -t "$session" "$1"
  tm select-layout -t "$session" tiled >/dev/null
}
# Where each client connects: the server, or with DEMO_RELAYS a relay each
# (ports post+2, post+3 and post+4, post+5).
at1="$post $pub" at2="$post $pub"
first=1
if [ "${DEMO_RELAYS:-0}" = 1 ]; then
  at1="$((post + 2)) $((post + 3))" at2="$((post + 4)) $((post + 5))"
  pane "$bin/relay 127.0.0.1 $at1 127.0.0.1 $post $pub"
  pane "$bin/relay 127.0.0.1 $at2 127.0.0.1 $post $pub"
  first=3
fi
pane "$bin/mc_client 127.0.0.1 $at1 dev ann"
pane "$bin/mc_client 127.0.0.1 $at1 dev bob"
pane "$bin/mc_client 127.0.0.1 $at2 devops cy"
pane "$bin/mc_client 127.0.0.1 $at2 ALL eve"
tm set-option -t "$session" status-right " leave: Ctrl-b d (detach), or: tmux kill-session -t $session " >/dev/null
tm set-option -t "$session" status-right-length 80 >/dev/null
tm set-option -t "$session" mouse on >/dev/null

# Wait (up to 10 s) until every client is connected, then have each say hello.
clients=$(seq "$first" $((first + 3)))
for _ in $(seq 1 100); do
  ready=0
  for p in $clients; do
    tm capture-pane -p -t "$session.$p" | grep -q 'connected to' && ready=$((ready + 1))
  done
  [ "$ready" -eq 4 ] && break
  sleep 0.1
done
# A subscription reaches the server a moment after the connection is up;
# what is published before that is not delivered (PUB/SUB's slow joiner).
sleep 0.3
set -- $clients
tm send-keys -t "$session.$1" "hello dev, ann here" Enter
tm send-keys -t "$session.$2" "hi ann, bob on dev" Enter
tm send-keys -t "$session.$3" "devops: cy checking in" Enter
tm send-keys -t "$session.$4" "eve here: can ALL post?" Enter

relays=""
[ "$first" = 3 ] && relays=" two relays (ann and bob behind the first, cy and eve the second),"
cat <<MSG
zmqchat demo: server,$relays and four clients in tmux session '$session' (ann and bob on dev; cy on devops; eve on ALL).
Type in any client pane (click it, or Ctrl-b o moves between panes).
Leave: Ctrl-b d detaches; 'tmux kill-session -t $session' ends the demo.
MSG
if [ "${DEMO_ATTACH:-1}" != 0 ] && [ -t 0 ] && [ -t 1 ]; then
  if [ -n "${TMUX:-}" ] && [ -z "${DEMO_TMUX:-}" ]; then
    # Already inside tmux: attaching would nest; switch this client instead.
    exec tmux switch-client -t "$session"
  fi
  exec tmux "${tmuxopts[@]}" attach -t "$session"
fi
echo "attach with: tmux ${DEMO_TMUX:+$DEMO_TMUX }attach -t $session"
