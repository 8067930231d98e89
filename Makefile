# zmqchat: build, run, test and measure. `make help` lists the targets.

GO       ?= go
BIN      := bin
PROGRAMS := part1/post_server part1/post_client part2/pub_server part2/pub_client \
            part3/interactive_server part3/interactive_client part4/mc_server part4/mc_client \
            cmd/keygen cmd/relay
# The SQLite driver links the system's libsqlite3 (scripts/deps.sh installs
# it) instead of compiling its bundled copy, which takes a minute per build
# mode. Without the tag (a plain go build) it still works, only slower to build.
export GOFLAGS := -tags=libsqlite3 $(GOFLAGS)
# Where `make run` serves: loopback, the default ports.
HOST      ?= 127.0.0.1
POST_PORT ?= 5555
PUB_PORT  ?= 5556
# Where `make run` keeps the chat, so that it outlives a restart (git ignores data/).
STORE     ?= data/chat.db

.PHONY: all help deps build run demo relay-demo key test linux portable bench bench-store bench-peers fuzz mutate vet fmt clean

all: build

help:
	@echo "make run     build and run the part-4 server (mc_server) on $(HOST) $(POST_PORT) $(PUB_PORT), keeping the chat in $(STORE)"
	@echo "make demo    the part-4 server and four clients in one tmux session, a pane each"
	@echo "make relay-demo  the same with two relays between the server and its clients"
	@echo "make test    go vet, gofmt, staticcheck and the macOS compile, then every test under the race detector (unit, fuzz seeds, scenarios)"
	@echo "make build   build the eight programs (and keygen, relay) into $(BIN)/"
	@echo "make key KEYDIR=dir   a CurveZMQ key pair for keyed mode in dir (see Security in the README)"
	@echo "make bench   zmqchat against raw libzmq, medians of BENCH_ROUNDS rounds of BENCH_TIME each, as ratios, into docs/bench.md"
	@echo "make bench-store N=5000000   the store file's figures (restart, memory, HISTORY) with N messages"
	@echo "make bench-peers   the same chat workload against NATS and Redis beside zmqchat (installs redis-server as root)"
	@echo "make fuzz    fuzz the codec and the server's request handling, FUZZTIME each (default 30s)"
	@echo "make mutate  mutation testing of internal/ (gremlins), efficacy per package; about half an hour"
	@echo "make vet     go vet, the gofmt check and staticcheck only"
	@echo "make portable   compile every package for macOS (cgo included, with zig cc), as make test does"
	@echo "make fmt     gofmt every Go file in place"
	@echo "make deps    install (as root) or name the missing system packages"
	@echo "make clean   remove $(BIN)/"

deps:
	@scripts/deps.sh

build: deps
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./,$(PROGRAMS))

run: build
	@mkdir -p $(dir $(STORE))
	@# The shell waits out Ctrl-C (trap :), which the server takes as its stop, so
	@# make sees a clean exit rather than its own "*** Interrupt".
	@trap : INT; $(BIN)/mc_server -store "$(STORE)" "$(HOST)" $(POST_PORT) $(PUB_PORT) || { code=$$?; \
	  [ $$code -ne 1 ] || echo "make run: to serve on other ports: make run POST_PORT=6000 PUB_PORT=6001" >&2; exit $$code; }

KEYDIR ?=
key: build
	@test -n "$(KEYDIR)" || { echo "make key KEYDIR=dir: say where the key pair goes, e.g. KEYDIR=keys/alice" >&2; exit 2; }
	@$(BIN)/keygen "$(KEYDIR)"

demo: build
	@scripts/deps.sh tmux
	@scripts/demo.sh

relay-demo: build
	@scripts/deps.sh tmux
	@DEMO_RELAYS=1 scripts/demo.sh

vet: deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) tool staticcheck ./...

fmt:
	gofmt -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

test: linux vet portable
	$(GO) test -race -count=1 ./...

# The scenario tests read /proc and need Linux; on macOS, build and run work.
# The relay tests make network namespaces with ip (iproute2), and lose
# packets in them with nft (nftables).
linux:
	@test "$$(uname -s)" = Linux || { echo "make test needs Linux (its scenario tests read /proc); on $$(uname -s), make build and make run work" >&2; exit 1; }
	@scripts/deps.sh ip nft

portable: deps
	@command -v zig >/dev/null || scripts/deps.sh npm
	@scripts/portable.sh

# Benchmarks: each workload against mc_server and against a raw libzmq loop,
# alternating over rounds; bench/report prints medians and ratios. The raw
# results stay in $(BIN)/bench.txt for benchstat.
BENCH_TIME   ?= 0.3s
BENCH_ROUNDS ?= 5
bench: deps
	@mkdir -p $(BIN)
	$(GO) test -c -o $(BIN)/bench.test ./bench
	$(GO) build -o $(BIN)/bench-report ./bench/report
	@rm -f $(BIN)/bench.txt
	@for r in $$(seq 1 $(BENCH_ROUNDS)); do \
	  echo "round $$r of $(BENCH_ROUNDS)" >&2; \
	  BENCH_ROUND=$$r $(BIN)/bench.test -test.run '^$$' -test.bench 'Post|Pipelined|Fanout|Latency' \
	    -test.benchtime $(BENCH_TIME) >> $(BIN)/bench.txt || exit 1; \
	done
	@$(BIN)/bench.test -test.run '^$$' -test.bench Memory -test.benchtime 1000000x >> $(BIN)/bench.txt
	@$(GO) test -run '^$$' -bench ServeAllocs -benchtime 200000x ./internal/server | grep '^Benchmark' >> $(BIN)/bench.txt
	@echo "1,000 subscribers, directly and behind relays" >&2
	@$(BIN)/bench.test -test.run '^$$' -test.bench Relays -test.benchtime 20000x >> $(BIN)/bench.txt
	@echo "1,000 clients present, or none" >&2
	@$(BIN)/bench.test -test.run '^$$' -test.bench Presence -test.benchtime 40000x >> $(BIN)/bench.txt
	@echo "a store file of $${BENCH_STORE_N:-1000000} messages" >&2
	@$(BIN)/bench.test -test.run '^$$' -test.bench StoreFile -test.benchtime 1x >> $(BIN)/bench.txt
	@{ echo "# make bench, $$(date -u +%Y-%m-%d)"; echo; \
	  echo "Written by \`make bench BENCH_ROUNDS=$(BENCH_ROUNDS) BENCH_TIME=$(BENCH_TIME)\` on $$(date -u '+%Y-%m-%d %H:%M UTC'):" \
	    "$$(nproc) cores of $$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	    "$$(awk '/MemTotal/ {printf "%.0f", $$2/1048576}' /proc/meminfo) GiB, libzmq $$(pkg-config --modversion libzmq), $$($(GO) env GOVERSION)." \
	    "See [performance.md](performance.md) for what each row measures."; echo; \
	  $(BIN)/bench-report < $(BIN)/bench.txt; } > docs/bench.md
	@cat docs/bench.md

# The store file's figures with N messages (5,000,000: about a minute to write).
N ?= 5000000
bench-store: deps
	@mkdir -p $(BIN)
	$(GO) test -c -o $(BIN)/bench.test ./bench
	$(GO) build -o $(BIN)/bench-report ./bench/report
	BENCH_STORE_N=$(N) $(BIN)/bench.test -test.run '^$$' -test.bench StoreFile -test.benchtime 1x > $(BIN)/bench-store.txt
	@$(BIN)/bench-report < $(BIN)/bench-store.txt

# The chat workload against NATS (nats-server, built from go.mod's tool
# requirement) and Redis (Debian's redis-server) beside mc_server and raw
# libzmq, alternated over rounds: posts/s and acknowledgement latency.
PEER_ROUNDS ?= 3
bench-peers: deps
	@scripts/deps.sh redis-server
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/nats-server github.com/nats-io/nats-server/v2
	$(GO) test -c -tags libsqlite3,peers -o $(BIN)/bench-peers.test ./bench
	$(GO) build -o $(BIN)/bench-report ./bench/report
	@rm -f $(BIN)/bench-peers.txt
	@for r in $$(seq 1 $(PEER_ROUNDS)); do \
	  echo "round $$r of $(PEER_ROUNDS)" >&2; \
	  BENCH_ROUND=$$r BENCH_NATS_SERVER=$(BIN)/nats-server $(BIN)/bench-peers.test -test.run '^$$' -test.bench Peers \
	    -test.benchtime $(BENCH_TIME) >> $(BIN)/bench-peers.txt || exit 1; \
	done
	@$(BIN)/bench-report < $(BIN)/bench-peers.txt

FUZZTIME ?= 30s
fuzz: deps
	$(GO) test -run '^$$' -fuzz FuzzDecodePost -fuzztime $(FUZZTIME) ./internal/msg
	$(GO) test -run '^$$' -fuzz FuzzHandle -fuzztime $(FUZZTIME) ./internal/server

# Mutation testing: each internal package against its own tests; the table
# is what the README's Testing section shows.
mutate: deps
	@scripts/mutate.sh

clean:
	rm -rf $(BIN)
