# Quick start: `make run` (install, build, serve) and `make test` (install,
# build, run every test). Everything else is optional.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: all deps build run test test-asan test-tsan fuzz bench format clean proto-check

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/service/gitlab-gateway $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The same suite under AddressSanitizer + UBSan (leaks included).
test-asan: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS)

# The concurrency-heavy tests (ctest label "tsan": engine, limiters, gRPC
# reactors) under ThreadSanitizer; tests/tsan/ says how uninstrumented
# Debian libraries are handled.
test-tsan: deps
	@cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGG_TSAN=ON >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target gg_tsan_tests
	cd $(TSAN_DIR) && ctest --output-on-failure -j $(JOBS) -L tsan

# libFuzzer targets (tests/fuzz, clang-14) built in $(FUZZ_DIR), each run for
# FUZZ_SECONDS; fails on any crash. Installs scripts/deps/fuzz.txt.
fuzz: deps
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz.sh

# buf lint (STANDARD, buf.yaml) and buf breaking against the merge base with
# main (BUF_AGAINST=<ref> to change), offline: buf comes from npm
# (scripts/buf), imports from Debian. `make test` runs it too (proto_buf_check).
proto-check: deps
	@bash tests/support/npm-ci.sh scripts/buf $(BUILD_DIR)/scripts/buf >/dev/null
	@bash scripts/buf/check.sh $(BUILD_DIR)/scripts/buf/node_modules/.bin/buf . $(BUILD_DIR)/buf_check

format:
	@find service client tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR)

# Benchmarks against nginx, curl-multi and httpx in the same run (loopback
# only, a few minutes); tables go to bench/README.md. Not part of `make test`.
bench: build
	@BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) bash bench/run.sh $(ARGS)
