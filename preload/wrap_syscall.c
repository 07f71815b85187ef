/* SPDX-License-Identifier: MIT */
/* Wrapper for syscall(3): socket system calls made without their libc names. */
#define _GNU_SOURCE
#include <stdarg.h>

#include "wrap.h"

/*
 * glibc's syscall() is an ordinary exported function, and libuv (so
 * Node.js) closes every socket with syscall(SYS_close, fd): without
 * this wrapper those closes are never seen.  A socket system call is
 * handed to the entry its family defines (ST_SYSCALL_TABLE), which
 * records it as the libc function of the same name; every other number
 * goes straight to the real syscall() with the same six words, after
 * one switch.  Like glibc, six argument words are read whatever the
 * number takes: the unused ones are whatever the caller's registers
 * and stack held, and the kernel ignores them.
 */
#if defined(__x86_64__) || defined(__aarch64__)
ST_EXPORT(syscall) long syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
#define ST__SC_CASE(name) \
	case SYS_##name:  \
		return st__sc_##name(nr, a);
		ST_SYSCALL_TABLE(ST__SC_CASE)
#undef ST__SC_CASE
	default:
		return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
}
#endif
