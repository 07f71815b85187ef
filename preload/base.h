/* SPDX-License-Identifier: MIT */
/* What every file of the library uses: types, hints, raw system calls. */
#ifndef ST_PRELOAD_BASE_H
#define ST_PRELOAD_BASE_H

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "socktrace/format.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ST_TLS	    __thread __attribute__((tls_model("initial-exec")))

/*
 * Raw system calls for the library's own I/O: never re-enter a wrapper.
 * Inline and here, at the bottom, so that every file may use it.
 */
static inline long st__sys(long nr, long a, long b, long c, long d, long e,
			   long f)
{
	return syscall(nr, a, b, c, d, e, f);
}

#endif
