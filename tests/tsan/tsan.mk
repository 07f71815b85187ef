# SPDX-License-Identifier: MIT
# make tsan: the preload's trace writer under ThreadSanitizer (clang),
# from its own sources built apart in build/tsan/, read back by the
# viewer's reader (tests/tsan/ring_writer.c says what is checked).

TSAN_B := build/tsan
TSAN_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -MMD -MP \
	-fsanitize=thread -fno-omit-frame-pointer
# What the writer needs: state and configuration, start-up, real
# functions, the fd table and record helpers, and attach (whose entry
# point start-up looks for in the global scope); not the wrappers.
TSAN_PRELOAD := state writer init real fdtab record attach clock limits \
	tracefile
TSAN_OBJ := $(TSAN_PRELOAD:%=$(TSAN_B)/preload/%.o) \
	$(TSAN_B)/viewer/trace.o $(TSAN_B)/viewer/units.o

$(TSAN_B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (tsan)")
	$(Q)clang $(TSAN_CFLAGS) -c $< -o $@

# -rdynamic: the library's start-up looks for itself in the program's
# global scope (else it waits for socktrace attach), as when preloaded.
$(TSAN_B)/ring_writer: tests/tsan/ring_writer.c $(TSAN_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)clang $(TSAN_CFLAGS) -pthread -rdynamic $(filter %.c %.o,$^) \
		-o $@ -ldl

# Any data race TSan sees fails the run (its exit code, 66).
tsan: $(TSAN_B)/ring_writer
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		$(TSAN_B)/ring_writer

.PHONY: tsan

-include $(TSAN_OBJ:.o=.d) $(TSAN_B)/ring_writer.d
