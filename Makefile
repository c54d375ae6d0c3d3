# Top-level driver: `make` builds into build/, `make test` runs every test (see README).
#   make            configure (once) and build into $(BUILD)
#   make test       build, unit tests, spec suite; last line: N passed, N failed, N skipped
#   make unit       build, unit tests only
#   make spectest   build, spec suite only (SPECTEST="i32 address" runs just those scripts)
#   make asan       the same tests in build-asan/, with AddressSanitizer + UBSan
#   make check-ci   what CI runs after installing packages: -Werror build, test, asan
# CMAKE_ARGS are passed when a build folder is first configured.
BUILD ?= build
ASAN_BUILD ?= build-asan
GEN := -G Ninja
SPECTEST ?=

.PHONY: all test unit spectest asan asan-build check-ci clean

all: $(BUILD)/build.ninja
	@ninja -C $(BUILD)

$(BUILD)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD) $(GEN) $(CMAKE_ARGS) >/dev/null

test: all
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
	rm -rf $(BUILD) $(ASAN_BUILD)
