/* SPDX-License-Identifier: MIT */
/* Finding libsocktrace.so, and the programs it cannot trace. */
#ifndef ST_VIEWER_PRELOAD_LIB_H
#define ST_VIEWER_PRELOAD_LIB_H

#include <stddef.h>

/* libsocktrace.so: $SOCKTRACE_LIB, beside socktrace, or in ../lib/; -1
 * after saying so on stderr (CMD names the subcommand). */
int st_find_lib(char *out, size_t len, const char *cmd)
	__attribute__((nonnull));
/*
 * Why LD_PRELOAD-style tracing cannot see the socket calls of the
 * program in file PATH, or NULL if it can: a static binary has no
 * dynamic loader; Go's runtime makes its system calls itself even when
 * linked against libc.  A Go program whose C code (cgo: libpq, libcurl)
 * reaches libc's socket calls is seen in part: *PARTLY then says so.
 */
const char *st_invisible(const char *path, const char **partly);

#endif
