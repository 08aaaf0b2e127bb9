# hermod: the commands a newcomer needs. See README.md.
#   make run    install what is missing, build, start `hermod serve`
#   make test   install what is missing, build, run every suite
SHELL := /bin/bash
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 5
NINJA_JOBS ?= $(shell nproc)

.PHONY: all deps build build-asan build-fuzz run test unit fuzz bench clean bench-convert bench-store bench-pop3 bench-imap bench-smtp bench-ews

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(BUILD_FUZZ)/build.ninja:
	CC=clang meson setup $(BUILD_FUZZ) --buildtype=debug -Dfuzz=true -Db_lundef=false

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(NINJA_JOBS)

build-asan: deps $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN) -j $(NINJA_JOBS)

build-fuzz: deps $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ) -j $(NINJA_JOBS)

run: build
	$(BUILD)/src/cmd/hermod serve

# Every suite: unit tests (plain and ASan+UBSan), integration tests against
# the real daemon, and a short run of every fuzz target. Ends with
# "N passed, N failed".
test: build build-asan build-fuzz
	/usr/bin/python3 scripts/run-tests --build $(BUILD) --asan $(BUILD_ASAN) \
		--fuzz $(BUILD_FUZZ) --fuzz-seconds $(FUZZ_SECONDS)

unit: build
	meson test -C $(BUILD) --print-errorlogs

# Builds the libFuzzer targets; FUZZ_SECONDS=N make fuzz runs each for N s.
fuzz: build-fuzz
	/usr/bin/python3 scripts/run-tests --only fuzz --fuzz $(BUILD_FUZZ) \
		--fuzz-seconds $(FUZZ_SECONDS)

# MIME import/export throughput on one core (docs/benchmarks.md).
bench-convert: build
	taskset -c 0 $(BUILD)/bench/bench-convert

# The store: 100,000 messages; prints one line per figure and a summary
# line (docs/benchmarks.md). BENCH_STORE_ARGS="--messages 20000" for less.
bench-store: build
	$(BUILD)/bench/bench-store $(BENCH_STORE_ARGS)

# POP3: 100 users x 100 messages against hermod and Dovecot's POP3 in one
# run (docs/benchmarks.md).
bench-pop3: build
	scripts/deps.sh --bench
	/usr/bin/python3 bench/pop3/bench_pop3.py

# hermod against Dovecot on the same IMAP workload (bench/imap_bench.py);
# BENCH_USERS, BENCH_MESSAGES, BENCH_SECONDS, BENCH_PROCS tune it.
bench-imap: build
	@scripts/deps.sh --bench
	/usr/bin/python3 bench/imap_bench.py

# hermod's SMTP against Postfix (installed by deps.sh --bench) with
# smtp-source: 10,000 x 10 KB, 20 sessions, 100 users. See
# bench/smtp/bench_smtp.py and docs/benchmarks.md.
bench-smtp: build
	@scripts/deps.sh --bench
	/usr/bin/python3 bench/smtp/bench_smtp.py --build $(BUILD)

# EWS: 20 concurrent clients, FindItem (first 50 of a 10,000-message Inbox
# by date) + GetItem of what was found (bench/ews_bench.py); BENCH_CLIENTS,
# BENCH_MESSAGES, BENCH_SECONDS tune it.
bench-ews: build
	/usr/bin/python3 bench/ews_bench.py

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
