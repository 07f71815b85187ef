# SPDX-License-Identifier: MIT
# make fuzz: the trace reader and everything after it under libFuzzer
# (clang, ASan, UBSan), from a seed corpus of real traces.

FUZZ_CC := clang
FUZZ_B := build/fuzz
FUZZ_SECONDS ?= 180
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -I$(B)/gen -MMD -MP \
	$(FUZZ_SAN)
FUZZ_OBJ := $(VIEWER_SRC:%.c=$(FUZZ_B)/%.o)
FUZZ_LIB_OBJ := $(filter-out $(FUZZ_B)/viewer/main.o,$(FUZZ_OBJ))

$(FUZZ_B)/viewer/%.o: viewer/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (fuzz)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# the HTML writer includes its page, made into C arrays
$(FUZZ_B)/viewer/sink_html.o: $(HTML_GEN)

$(FUZZ_B)/fuzz_trace: tests/fuzz/fuzz_trace.c $(FUZZ_LIB_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Iviewer -fsanitize=fuzzer \
		$(filter %.c %.o,$^) -o $@ $(LDLIBS_VIEWER)

$(FUZZ_B)/seeds/.done: tests/fuzz/seeds.sh libsocktrace.so $(EXAMPLE_BIN) \
		$(B)/tests/progs/probe
	$(Q)rm -rf $(@D) && tests/fuzz/seeds.sh $(@D) $(CURDIR)/libsocktrace.so \
		$(B)/examples $(B)/tests/progs/probe && touch $@

# New inputs the fuzzer finds go to $(FUZZ_B)/corpus (kept between runs);
# the seeds and every committed regression input are read too.  Any crash,
# leak, sanitizer report or input that takes over 10 s fails the target
# and leaves the input in $(FUZZ_B)/ as crash-*, leak-* or timeout-*.
fuzz: all $(FUZZ_B)/fuzz_trace $(FUZZ_B)/seeds/.done
	@mkdir -p $(FUZZ_B)/corpus
	$(FUZZ_B)/fuzz_trace -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
		-dict=tests/fuzz/trace.dict -artifact_prefix=$(FUZZ_B)/ \
		-print_final_stats=1 $(FUZZ_FLAGS) \
		$(FUZZ_B)/corpus $(FUZZ_B)/seeds tests/fuzz/regress

.PHONY: fuzz

-include $(FUZZ_OBJ:.o=.d)
