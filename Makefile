# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
GEN := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")

.PHONY: all deps build build-asan run test bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -G "$(GEN)" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)
	@scripts/build-wasm.sh build-wasm >/dev/null
	@scripts/build-web.sh build-wasm

build-asan: deps
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -G "$(GEN)" -DCMAKE_BUILD_TYPE=Debug -DSOTTO_SANITIZE=ON -DSOTTO_TEST_RNG=ON >/dev/null
	@cmake --build $(ASAN_BUILD)

run: build
	@exec $(BUILD)/bin/sottod

test: deps
	@scripts/test.sh

bench: build
	@bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
