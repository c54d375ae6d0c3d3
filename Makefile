# Top-level driver: `make` builds into build/, `make test` runs every test.
BUILD ?= build
GEN := -G Ninja

.PHONY: all test spectest clean

all: $(BUILD)/build.ninja
	@ninja -C $(BUILD)

$(BUILD)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD) $(GEN) $(CMAKE_ARGS) >/dev/null

clean:
	rm -rf build build-asan
