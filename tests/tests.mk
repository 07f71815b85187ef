# SPDX-License-Identifier: MIT
# Tests: the house limits (tests/lint.py, make format-check), cmocka unit
# tests (tests/test_*.c, one per viewer module), test
# programs run under the preload (tests/progs/*.c) and the integration
# suite (tests/integration.py) that compares runs with and without it.

# Debian packages the tests, benchmarks, fuzzing and TSan need beyond the
# build's: make test (and bench, fuzz, tsan) installs those missing.
TEST_DEPS := python3 curl nginx wrk strace valgrind redis-server redis-tools \
	postgresql iproute2 iptables \
	socat util-linux chromium clang libclang-rt-dev tmux tcpdump nodejs \
	libcmocka-dev clang-format man-db golang-go openssh-server \
	openssh-client ruby perl openjdk-17-jdk-headless haproxy

UNIT_SRC := $(wildcard tests/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/%.c=$(B)/tests/%)
PROG_SRC := $(wildcard tests/progs/*.c)
PROG_BIN := $(PROG_SRC:tests/progs/%.c=$(B)/tests/progs/%) \
	$(B)/tests/progs/probe_fortify $(B)/tests/progs/static_hello \
	$(B)/tests/progs/go_hello $(B)/tests/progs/static_pingpong

$(B)/tests/test_%: tests/test_%.c $(VIEWER_LIB_OBJ) | test-deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) -Iviewer $(CFLAGS) $^ -o $@ $(LDFLAGS) -lcmocka \
		$(LDLIBS_VIEWER)

# Test programs are what gets traced: plain builds, no sanitizer runtime.
PROG_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -pthread -U_FORTIFY_SOURCE

$(B)/tests/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(PROG_CFLAGS) $(CFLAGS) $< -o $@ -ldl

# The same probe, fortified: reads go through __read_chk and friends.
$(B)/tests/progs/probe_fortify: tests/progs/probe.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (fortified)")
	$(Q)$(CC) $(PROG_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 $(CFLAGS) $< -o $@ -ldl

# What 'socktrace run' must refuse: a static binary, and one marked as Go
# (a Go build note section; no Go toolchain is needed to make one).
$(B)/tests/progs/static_hello: tests/progs/hello.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(PROG_CFLAGS) -static $< -o $@

# What 'socktrace run' traces with ptrace: a static client and server.
$(B)/tests/progs/static_pingpong: tests/progs/pingpong.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(PROG_CFLAGS) -static $< -o $@

$(B)/tests/progs/go_hello: $(B)/tests/progs/hello
	$(Q)printf 'Go\0' > $@.note && objcopy --add-section \
		.note.go.buildid=$@.note $< $@ && rm -f $@.note

# Under SANITIZE, a UBSan report fails the test that triggered it.
test: test-deps all examples man $(UNIT_BIN) $(PROG_BIN) $(B)/tests/bench/gen_trace
	@export UBSAN_OPTIONS=$${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}; \
	fail=0; python3 tests/lint.py || fail=1; \
	$(MAKE) -s format-check || fail=1; \
	for t in $(UNIT_BIN); do $$t || fail=1; done; \
	ST_BUILD=$(B) ST_OUT=$(or $(OUT),.) python3 tests/integration.py $(TESTS) \
		|| fail=1; exit $$fail

.PHONY: test

# Benchmarks (make bench; not part of make test).
$(B)/tests/bench/gen_trace: tests/bench/gen_trace.c include/socktrace/format.h
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) -Iinclude $(CFLAGS) $< -o $@

$(B)/tests/bench/loops: tests/bench/loops.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) $(CFLAGS) $< -o $@

# The library's own cost per record: its sources linked in, the real
# call stubbed (tests/bench/libcost.c).
$(B)/tests/bench/libcost: tests/bench/libcost.c $(PRELOAD_SRC) \
		$(wildcard preload/*.h)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) -Iinclude -Ipreload -fno-stack-protector \
		-D_FORTIFY_SOURCE=0 $(CFLAGS) $< $(PRELOAD_SRC) -o $@ -ldl -lpthread

$(B)/tests/bench/syscalls: tests/bench/syscalls.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) $(CFLAGS) $< -o $@

# The least a stop at a system call costs (run --ptrace's floor).
$(B)/tests/bench/stopcost: tests/bench/stopcost.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) $(CFLAGS) $< -o $@

BENCH_BIN := $(B)/tests/bench/loops $(B)/tests/bench/gen_trace

# BENCH=--quick: a few small rounds, only to check the record counts.
bench: test-deps all $(BENCH_BIN)
	python3 tests/bench/bench.py $(BENCH) $(B) $(or $(OUT),./)socktrace \
		$(or $(OUT),./)libsocktrace.so

bench-viewer: all $(B)/tests/bench/gen_trace
	python3 tests/bench/viewer_scale.py $(B)/tests/bench/gen_trace \
		$(or $(OUT),./)socktrace $(CONNECTIONS)

# Costs the noisy end-to-end figures are made of: the library's own work
# per record (in a ring, and with a growing file in $(BENCH_DIR)), and each
# system call it adds per connection.
BENCH_DIR ?= /tmp
bench-costs: $(B)/tests/bench/libcost $(B)/tests/bench/syscalls \
		$(B)/tests/bench/stopcost
	@d=$$(mktemp -d $(BENCH_DIR)/socktrace-costs.XXXXXX) && \
	SOCKTRACE_DIR=$$d SOCKTRACE_MAX_SIZE=1M $(B)/tests/bench/libcost && \
	SOCKTRACE_DIR=$$d SOCKTRACE_MAX_SIZE=4G $(B)/tests/bench/libcost; \
	rc=$$?; rm -rf $$d; exit $$rc
	$(B)/tests/bench/syscalls
	$(B)/tests/bench/stopcost

# The HTML report of 10,000 and 100,000 generated connections in headless
# Chromium: load time, memory, narrowing (README, "HTML report").
bench-html: all $(B)/tests/bench/gen_trace
	ST_BUILD=$(B) ST_OUT=$(or $(OUT),./) python3 tests/bench/html_scale.py $(HTML_SIZES)

.PHONY: bench bench-viewer bench-costs bench-html
include tests/fuzz/fuzz.mk
include tests/tsan/tsan.mk

# fuzzing and TSan are built with clang and its runtimes
$(FUZZ_B)/fuzz_trace $(TSAN_B)/ring_writer: | test-deps
