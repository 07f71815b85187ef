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

/*
 * What glibc and musl (libsocktrace-musl.so) declare differently.  musl
 * makes the *64 names (sendfile64, fcntl64...) macros for the plain ones
 * under _GNU_SOURCE; the files that export them #undef them (wrap.h).
 */
#ifdef __GLIBC__
typedef int st_mmsg_flags;
#define ST_RLIMIT_RESOURCE __rlimit_resource_t
#else
typedef unsigned st_mmsg_flags;
#define ST_RLIMIT_RESOURCE int
#define strerrordesc_np(e) strerror(e) /* musl's: a table lookup */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older musl headers lack it */
#endif

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ST_TLS	    __thread __attribute__((tls_model("initial-exec")))

/*
 * Raw system calls for the library's own I/O: never re-enter a wrapper.
 * Inline and here, at the bottom, so that every file may use it.
 * syscall(3) itself is wrapped (wrap_syscall.c), so on the architectures
 * where that wrapper exists the instruction is issued here; elsewhere
 * libc's syscall() is still ours to call.  Returns what syscall(3)
 * does: the result, or -1 with errno set.
 */
#if defined(__x86_64__)
#define ST_RAW_SYSCALL 1
static inline long st__sys_raw(long nr, long a, long b, long c, long d, long e,
			       long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define ST_RAW_SYSCALL 1
static inline long st__sys_raw(long nr, long a, long b, long c, long d, long e,
			       long f)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#endif

static inline long st__sys(long nr, long a, long b, long c, long d, long e,
			   long f)
{
#ifdef ST_RAW_SYSCALL
	long r = st__sys_raw(nr, a, b, c, d, e, f);

	/* the kernel returns -errno in [-4095, -1] */
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
#else
	return syscall(nr, a, b, c, d, e, f);
#endif
}

#endif
