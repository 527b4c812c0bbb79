# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
GEN := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")

.PHONY: all deps build run test bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G "$(GEN)" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_PARTS=all >/dev/null
	@cmake --build $(BUILD)
	@scripts/build-wasm.sh build-wasm >/dev/null
	@scripts/build-web.sh build-wasm

run: build
	@exec $(BUILD)/bin/sottod

test: deps
	@scripts/test.sh

bench: build
	@bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-wasm web/dist
