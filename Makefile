# Top-level driver: `make` builds into build/, `make test` runs every test (see README).
#   make            configure (once) and build into $(BUILD)
#   make test       build, unit tests, spec suite; last line: N passed, N failed, N skipped
#   make unit       build, unit tests only
#   make spectest   build, spec suite only (SPECTEST="i32 address" runs just those scripts)
#   make asan       the same tests in build-asan/, with AddressSanitizer + UBSan
#   make check-ci   what CI runs after installing packages: -Werror build, test, asan
#   make fuzz       every libFuzzer target in build-fuzz/ (clang), FUZZ_TIME seconds each
#   make bench      bench-micro, bench-reset, the engine workloads (shared bench/engines) under
#                   build/apron wasm with peers, then bench-simd (needs no shared folder)
# CMAKE_ARGS are passed when a build folder is first configured.
BUILD ?= build
ASAN_BUILD ?= build-asan
GEN := -G Ninja
SPECTEST ?=

FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 600
# libFuzzer's per-input limit: generous, as the shared 2-vCPU VM can stall a process for seconds
FUZZ_TIMEOUT ?= 30

.PHONY: deps bench bench-micro bench-reset bench-simd soak fuzz fuzz-config fuzz-engine fuzz-cap fuzz-http fuzz-server all test unit spectest asan asan-build check-ci clean

all: $(BUILD)/build.ninja
	@ninja -C $(BUILD)

$(BUILD)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD) $(GEN) $(CMAKE_ARGS) >/dev/null

# The Debian packages the suite needs (tools/deps.sh: installs what is missing when root).
deps:
	@tools/deps.sh test

test: deps all
	@tests/run.sh $(BUILD)

unit: all
	@ctest --test-dir $(BUILD) -L unit --output-on-failure

spectest: all
	@tests/spec/run.sh $(BUILD) $(SPECTEST)

$(ASAN_BUILD)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(ASAN_BUILD) $(GEN) -DAPRON_SANITIZE=ON $(CMAKE_ARGS) >/dev/null

asan-build: $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD)

asan: asan-build
	@ASAN_OPTIONS=$${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1} \
	tests/run.sh $(ASAN_BUILD)

check-ci:
	@cmake -S . -B $(BUILD) $(GEN) -DAPRON_WERROR=ON $(CMAKE_ARGS) >/dev/null
	@cmake -S . -B $(ASAN_BUILD) $(GEN) -DAPRON_WERROR=ON -DAPRON_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory asan

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# libFuzzer on decode + validate + compile + instantiate + call, seeded from the spec suite's
# modules (converted by `make spectest`) and tests/wast's (converted by `make test`); FUZZ_TIME seconds
# (default 600).
$(FUZZ_BUILD)/build.ninja: CMakeLists.txt
	@CC=clang cmake -S . -B $(FUZZ_BUILD) $(GEN) -DAPRON_FUZZ=ON $(CMAKE_ARGS) >/dev/null

fuzz-engine: $(FUZZ_BUILD)/build.ninja spectest
	@ninja -C $(FUZZ_BUILD) fuzz-engine
	@mkdir -p $(FUZZ_BUILD)/corpus-engine $(FUZZ_BUILD)/seeds-engine
	@find $(BUILD)/spectest $(BUILD)/wast -name '*.wasm' -size -64k -exec cp {} $(FUZZ_BUILD)/seeds-engine/ \; 2>/dev/null || true
	@ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} $(FUZZ_BUILD)/fuzz-engine -max_total_time=$(FUZZ_TIME) \
	  -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
	  $(FUZZ_BUILD)/corpus-engine $(FUZZ_BUILD)/seeds-engine

# The config parsers (tests/fuzz/fuzz_{tarmac,settings}.c), FUZZ_TIME seconds each, seeded from
# tests/fuzz/corpus/<target>/ and every tarmac.json in the tree.
fuzz-config: $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD) fuzz-tarmac fuzz-settings
	@for t in tarmac settings; do mkdir -p $(FUZZ_BUILD)/corpus-$$t || exit 1; \
	  if [ $$t = tarmac ]; then find examples tests -name '*.json' -size -64k \
	    -exec cp {} $(FUZZ_BUILD)/corpus-$$t/ \; 2>/dev/null; fi; \
	  ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} $(FUZZ_BUILD)/fuzz-$$t -max_total_time=$(FUZZ_TIME) \
	    -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
	    $(FUZZ_BUILD)/corpus-$$t tests/fuzz/corpus/$$t || exit 1; done

# The capability callbacks' payload decoding (fuzz_cap.c: every callback, protobuf and JSON, on
# the in-memory KV and SQLite, httpclient stopped before the network, tarmac:function into
# loaded test guests) and the HTTP layer's own request handling (fuzz_http.c: router,
# tarmac:request/response host calls, sniffing; no sockets), FUZZ_TIME seconds each, seeded from
# tests/fuzz/corpus/<target>/ (tests/fuzz/seeds.py).
fuzz-cap fuzz-http: $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD) $@
	@mkdir -p $(FUZZ_BUILD)/corpus-$(@:fuzz-%=%)
	@ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} $(FUZZ_BUILD)/$@ -max_total_time=$(FUZZ_TIME) \
	  -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
	  $(FUZZ_BUILD)/corpus-$(@:fuzz-%=%) tests/fuzz/corpus/$(@:fuzz-%=%)

# libmicrohttpd's parser and src/http/server.c's request handling with real test guests
# (fuzz_server.c: raw HTTP/1.1 bytes over a socketpair, both threadings), FUZZ_TIME seconds,
# seeded with the integration tests' requests (tests/fuzz/seeds.py --server, into the build folder).
fuzz-server: $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD) $@
	@mkdir -p $(FUZZ_BUILD)/corpus-server
	@python3 tests/fuzz/seeds.py --server $(FUZZ_BUILD)/seeds-server
	@ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} $(FUZZ_BUILD)/$@ -max_total_time=$(FUZZ_TIME) \
	  -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
	  $(FUZZ_BUILD)/corpus-server $(FUZZ_BUILD)/seeds-server

# Every target above in turn: FUZZ_TIME=600 is the 10-minute run of the README.
fuzz: fuzz-engine fuzz-config fuzz-cap fuzz-http fuzz-server

# 60 s of wrk on the hello example (SOAK_TIME seconds; tests/soak.sh): zero non-2xx and socket
# errors, RSS after the run within 10% of RSS after a warm-up.
SOAK_TIME ?= 60
soak: all
	@tests/soak.sh $(BUILD) $(SOAK_TIME)

# ---- Benchmarks ----
# The engine workloads live in the shared folder (bench/engines: eight C programs, their Makefile
# and runbench.py); nothing is copied. They are built into $(BUILD)/bench/{native,wasm} and timed
# natively, under `$(BUILD)/apron wasm` (column "ours") and under whichever peers runbench.py
# finds (node, and wasm3/WAMR under $$ANCHORS). BENCH_QUICK=1: ~1/10 of the work, one run each.
# BENCH_ARGS go to runbench.py (e.g. BENCH_ARGS="--bench fib,sieve --skip node").
APRON_SHARED ?= $(firstword $(wildcard ../shared /work/shared))
BENCH_ENGINES_DIR ?= $(APRON_SHARED)/bench/engines
BENCH_QUICK ?=
BENCH_ARGS ?=

# bench-reset (bench/reset.c): wa_instance_reset against re-instantiation, in process.
bench-reset: all
	@$(BUILD)/bench-reset $(BUILD)/bench-reset.wasm $(if $(filter 1,$(BENCH_QUICK)),2000)

# bench-micro (bench/micro.c): host↔guest call cost, load/compile and instantiation times.
bench-micro: all
	@$(BUILD)/bench-micro $(if $(filter 1,$(BENCH_QUICK)),1000000)

# bench-simd (bench/simd.sh): bench/simd.c for wasm32-wasi, scalar and -msimd128, under apron
# wasm; fails when the -msimd128 build is not faster. Needs no shared folder.
bench-simd: all
	@BENCH_QUICK="$(BENCH_QUICK)" bench/simd.sh "$(abspath $(BUILD))"

# The engine workloads, then the SIMD bench whatever became of them; without the workloads the
# SIMD bench still runs, and `make bench` ends by repeating why the workloads were skipped (exit 1).
bench: all bench-micro bench-reset
	@status=0 why=; \
	if [ ! -f "$(BENCH_ENGINES_DIR)/runbench.py" ]; then \
	  why="no workloads at '$(BENCH_ENGINES_DIR)' (set APRON_SHARED to the shared folder)"; \
	  echo "bench: engine workloads skipped: $$why"; status=1; \
	else \
	  $(MAKE) --no-print-directory -s -C "$(BENCH_ENGINES_DIR)" BUILD="$(abspath $(BUILD))/bench" && \
	  ENGINE="$(abspath $(BUILD))/apron wasm" python3 "$(BENCH_ENGINES_DIR)/runbench.py" \
	    --build "$(abspath $(BUILD))/bench" $(if $(filter 1,$(BENCH_QUICK)),--size quick -n 1) \
	    $(BENCH_ARGS) || status=1; \
	fi; \
	$(MAKE) --no-print-directory bench-simd || status=1; \
	if [ -n "$$why" ]; then echo "bench: engine workloads skipped: $$why"; fi; \
	exit $$status

# ---- Server ----
# make run: installs the Debian packages that are missing (root) or prints the apt-get line, builds,
# and serves examples/tarmac.json on 127.0.0.1:8080 with LMDB and SQLite in $(BUILD)/run
# (tools/run.sh; APRON_RUN_LISTEN, APRON_RUN_DIR).
# make bench-http: wrk against apron (hello example) and nginx (`return 200`), alternating
# (bench/http/run.sh; ROUNDS, SECONDS_PER_RUN, CONNECTIONS, THREADS).
.PHONY: run bench-http
run:
	@BUILD=$(BUILD) tools/run.sh

bench-http: all
	@bench/http/run.sh $(abspath $(BUILD))
