/* SPDX-License-Identifier: MIT */
/* Loading libsocktrace.so into a running process and calling into it. */
#ifndef ST_VIEWER_INJECT_H
#define ST_VIEWER_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Loads LIB into process PID with its own dlopen, unless a copy is
 * already mapped (then that one is used), and calls
 * socktrace_attach_init(DIR, LEASE_NS) in it: recording starts into
 * DIR.  One thread is stopped, for the few milliseconds this takes.
 * Returns 0; 1 when the library mapped there was preloaded (it records
 * on its own); or -1 with a message saying what went wrong and what to
 * do in ERR.
 */
int st_inject_attach(pid_t pid, const char *lib, const char *dir,
		     uint64_t lease_ns, char *err, size_t len);

/* Calls socktrace_detach() in PID, whose copy of the library is mapped
 * from LIB: the original GOT entries come back, recording stops. */
int st_inject_detach(pid_t pid, const char *lib, char *err, size_t len);

/* Why PID cannot be traced with ptrace by us, or NULL if it can be (a
 * guess made before trying: the kernel has the last word). */
const char *st_inject_denied(pid_t pid, char *buf, size_t len);

#endif
