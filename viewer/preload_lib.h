/* SPDX-License-Identifier: MIT */
/* Finding libsocktrace.so, and the programs it cannot trace. */
#ifndef ST_VIEWER_PRELOAD_LIB_H
#define ST_VIEWER_PRELOAD_LIB_H

#include <stdbool.h>
#include <stddef.h>

/* The C library a program is linked against, by its loader (PT_INTERP). */
enum st_libc { ST_LIBC_GLIBC, ST_LIBC_MUSL };
enum st_libc st_program_libc(const char *path);
/* libsocktrace.so, or for LIBC musl libsocktrace-musl.so: $SOCKTRACE_LIB
 * (the musl build beside it), beside socktrace, or in ../lib/; -1 after
 * saying so on stderr (CMD names the subcommand). */
int st_find_lib(char *out, size_t len, const char *cmd, enum st_libc libc)
	__attribute__((nonnull));
/*
 * The LD_PRELOAD that serves glibc and musl programs alike, as a traced
 * program may exec the other kind: socktrace-preload/$LIB/libsocktrace.so
 * beside LIB (found by st_find_lib for a program of LIBC), into OUT.
 * glibc's loader expands $LIB, musl's takes it as written; make links
 * each reading to its library.  False when that tree is not there or
 * does not lead to LIB: then LIB itself serves.
 */
bool st_preload_tree(char *out, size_t len, const char *lib, enum st_libc libc)
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
