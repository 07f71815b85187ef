# SPDX-License-Identifier: MIT
# socktrace: libsocktrace.so (the preload library) and socktrace (the viewer).

# What socktrace --version says.
VERSION := 0.4.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
# where bash-completion looks for a command's completion
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

CC ?= cc
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifdef CI
WARN += -Werror
endif
# Objects of sanitized builds live apart: a flag change must not mix them.
B := build
ifdef SANITIZE
SAN := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
B := build-san
endif
# Where the two products go: the repo root, or build-san/ when sanitized.
OUT := $(if $(SANITIZE),$(B)/,)
OPT ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) -Iinclude -I$(B)/gen -MMD -MP $(SAN)
LDLIBS_VIEWER := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

PRELOAD_SRC := $(wildcard preload/*.c)
VIEWER_SRC := $(wildcard viewer/*.c)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(B)/%.o)
VIEWER_OBJ := $(VIEWER_SRC:%.c=$(B)/%.o)
VIEWER_LIB_OBJ := $(filter-out $(B)/viewer/main.o,$(VIEWER_OBJ))

# Debian packages building, installing and the demo need (make deps);
# the tests' own are TEST_DEPS (tests/tests.mk), which make test installs.
DEPS := gcc make uthash-dev pkg-config python3 xxd libncurses-dev musl-tools

# The library for programs linked against musl (run picks it by the
# program's loader), built with musl-gcc when it is there (musl-tools):
# musl's headers first, the kernel's (linux/, asm/) after them.
MUSL_CC ?= $(shell command -v musl-gcc 2>/dev/null)
MUSL_LIB := $(if $(MUSL_CC),$(OUT)libsocktrace-musl.so)
PRELOAD_MUSL_OBJ := $(PRELOAD_SRC:%.c=$(B)/musl/%.o)

# One LD_PRELOAD for glibc and musl programs alike, since a traced
# program may exec the other kind: PRELOAD_TREE/$LIB/libsocktrace.so.
# glibc's loader expands $LIB (to lib, lib64 or lib/<multiarch>, as its
# build set it), musl's reads it as written; a link for each reading
# leads to the library of that libc (run: viewer/preload_lib.c).
PRELOAD_TREE := $(OUT)socktrace-preload
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
GLIBC_LIB_DIRS := lib lib64 $(if $(MULTIARCH),lib/$(MULTIARCH))

all: $(OUT)libsocktrace.so $(MUSL_LIB) $(OUT)socktrace $(PRELOAD_TREE)/.made

$(PRELOAD_TREE)/.made: Makefile
	$(Q)rm -rf $(PRELOAD_TREE) && for d in $(GLIBC_LIB_DIRS); do \
		up=$$(echo "$$d" | sed 's,[^/][^/]*,..,g'); \
		mkdir -p $(PRELOAD_TREE)/$$d && \
		ln -s $$up/../libsocktrace.so $(PRELOAD_TREE)/$$d/ || exit 1; \
	done; mkdir -p '$(PRELOAD_TREE)/$$LIB' && \
	ln -s ../../libsocktrace-musl.so \
		'$(PRELOAD_TREE)/$$LIB/libsocktrace.so' && touch $@

# The preload library never runs sanitizers: they would be loaded into
# every traced program.  Only the interposed libc names are exported.
$(B)/preload/%.o: preload/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(filter-out $(SAN),$(BASE_CFLAGS)) -fPIC -fvisibility=hidden \
		-fno-stack-protector -D_FORTIFY_SOURCE=0 $(CFLAGS) -c $< -o $@

$(B)/viewer/%.o: viewer/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(VIEWER_DEFS) $(CFLAGS) -c $< -o $@

# Only main.c says the version: a new one rebuilds that file alone.
$(B)/viewer/main.o: VIEWER_DEFS = -DST_VERSION='"$(VERSION)"'
$(B)/viewer/main.o: Makefile

# The HTML report's page, style and script stay readable source files in
# viewer/html/; xxd -i turns each into a C array for viewer/sink_html.c.
HTML_GEN := $(B)/gen/report_html.h $(B)/gen/report_css.h $(B)/gen/report_js.h \
	$(B)/gen/overview_js.h

$(B)/gen/report_%.h: viewer/html/report.%
	@mkdir -p $(@D)
	@$(if $(Q),echo "  XXD     $<")
	$(Q)cd viewer/html && xxd -i report.$* > $(CURDIR)/$@.tmp
	$(Q)mv $@.tmp $@

$(B)/gen/overview_js.h: viewer/html/overview.js
	@mkdir -p $(@D)
	@$(if $(Q),echo "  XXD     $<")
	$(Q)cd viewer/html && xxd -i overview.js > $(CURDIR)/$@.tmp
	$(Q)mv $@.tmp $@

$(B)/viewer/sink_html.o: $(HTML_GEN)

# -z now: every symbol the library uses is bound when it is loaded, not
# on first use, which a forked child (one per connection in some
# servers) would do again, page faults and lookups included
$(OUT)libsocktrace.so: $(PRELOAD_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -fPIC -Wl,-z,now -o $@ $^ $(LDFLAGS) -ldl -lpthread

$(B)/musl/preload/%.o: preload/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  MUSLCC  $<")
	$(Q)$(MUSL_CC) $(filter-out $(SAN) -I$(B)/gen,$(BASE_CFLAGS)) -fPIC \
		-fvisibility=hidden -fno-stack-protector -D_FORTIFY_SOURCE=0 \
		-idirafter /usr/include \
		-idirafter /usr/include/$(shell $(CC) -dumpmachine) \
		$(CFLAGS) -c $< -o $@

$(OUT)libsocktrace-musl.so: $(PRELOAD_MUSL_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(MUSL_CC) -shared -fPIC -Wl,-z,now -o $@ $^ $(LDFLAGS)

$(OUT)socktrace: $(VIEWER_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDFLAGS) $(LDLIBS_VIEWER)

# Example programs, one per TCP fact (examples/README.md); the demo.
EXAMPLE_SRC := $(filter-out examples/common.c,$(wildcard examples/*.c))
EXAMPLE_BIN := $(patsubst examples/%.c,$(B)/examples/%,$(EXAMPLE_SRC))

$(B)/examples/%: examples/%.c examples/common.c examples/common.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -std=gnu11 -O1 -g $(WARN) $(CFLAGS) $< examples/common.c -o $@

examples: $(EXAMPLE_BIN)

# The man pages, each from its one source (docs/mkman.py): socktrace(1)
# from the viewer's own --help texts, libsocktrace(7) from README's table
# of environment variables.
MAN_PAGES := $(B)/man/socktrace.1 $(B)/man/libsocktrace.7

$(B)/man/socktrace.1: $(OUT)socktrace docs/mkman.py
	@mkdir -p $(@D)
	@$(if $(Q),echo "  MAN     $@")
	$(Q)python3 docs/mkman.py socktrace.1 ./$(OUT)socktrace > $@.tmp
	$(Q)mv $@.tmp $@

$(B)/man/libsocktrace.7: README.md docs/mkman.py
	@mkdir -p $(@D)
	@$(if $(Q),echo "  MAN     $@")
	$(Q)python3 docs/mkman.py libsocktrace.7 README.md $(LIBDIR) > $@.tmp
	$(Q)mv $@.tmp $@

man: $(MAN_PAGES)

include tests/tests.mk

# Installs the packages of PKGS that are missing (apt-get, with sudo when
# not root); says so when none is.
deps: PKGS = $(DEPS)
test-deps: PKGS = $(DEPS) $(TEST_DEPS)
deps test-deps:
	@missing=""; for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
			grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	else echo "$@: all present"; fi

demo: all examples
	$(Q)./examples/demo.sh

install: all man
	install -D -m 755 socktrace $(DESTDIR)$(BINDIR)/socktrace
	install -D -m 644 libsocktrace.so $(DESTDIR)$(LIBDIR)/libsocktrace.so
	$(if $(MUSL_LIB),install -D -m 644 libsocktrace-musl.so \
		$(DESTDIR)$(LIBDIR)/libsocktrace-musl.so)
	rm -rf $(DESTDIR)$(LIBDIR)/socktrace-preload
	cp -R socktrace-preload $(DESTDIR)$(LIBDIR)/
	install -D -m 644 $(B)/man/socktrace.1 \
		$(DESTDIR)$(MANDIR)/man1/socktrace.1
	install -D -m 644 $(B)/man/libsocktrace.7 \
		$(DESTDIR)$(MANDIR)/man7/libsocktrace.7
	install -D -m 644 completion/socktrace.bash \
		$(DESTDIR)$(BASHCOMPDIR)/socktrace

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/socktrace $(DESTDIR)$(LIBDIR)/libsocktrace.so \
		$(DESTDIR)$(LIBDIR)/libsocktrace-musl.so \
		$(DESTDIR)$(MANDIR)/man1/socktrace.1 \
		$(DESTDIR)$(MANDIR)/man7/libsocktrace.7 \
		$(DESTDIR)$(BASHCOMPDIR)/socktrace
	rm -rf $(DESTDIR)$(LIBDIR)/socktrace-preload

# The house style (HACKING.md): kernel formatting by .clang-format, and
# the limits tests/lint.py checks.  make test runs both checks.
FORMAT_SRC := $(wildcard preload/*.[ch] viewer/*.[ch] include/socktrace/*.h \
	tests/*.[ch] tests/*/*.c examples/*.[ch])

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC) || { \
		echo "format-check: run 'make format' (clang-format)"; exit 1; }

lint:
	@python3 tests/lint.py

clean:
	rm -rf build libsocktrace.so libsocktrace-musl.so socktrace

.PHONY: all examples man deps test-deps demo install uninstall clean test bench \
	format format-check lint

-include $(PRELOAD_OBJ:.o=.d) $(VIEWER_OBJ:.o=.d) $(PRELOAD_MUSL_OBJ:.o=.d)
