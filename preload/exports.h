/* SPDX-License-Identifier: MIT */
/* The libc names the library exports: one table for wrappers and attach. */
#ifndef ST_PRELOAD_EXPORTS_H
#define ST_PRELOAD_EXPORTS_H

#include "base.h"

/*
 * Every libc name the library exports, one X(name) row each: the names a
 * program's calls reach the wrappers by.  A wrapper is defined with
 * ST_EXPORT(name), which does not compile for a name missing here; a
 * second name of a wrapper (glibc's 64-bit variants) is made an alias of
 * it with ST_ALIAS.  attach.c redirects exactly these names in the GOTs
 * of a running process.
 */
#ifdef __x86_64__
#define ST__VFORK(X) X(vfork) /* wrap_fork.c's assembly */
#else
#define ST__VFORK(X)
#endif
/* syscall(3) is wrapped where st__sys can do without it (base.h) */
#if defined(__x86_64__) || defined(__aarch64__)
#define ST__SYSCALL(X) X(syscall) /* wrap_syscall.c */
#else
#define ST__SYSCALL(X)
#endif
/* clang-format off */
#define ST_EXPORT_TABLE(X)						\
	X(socket) X(socketpair) X(bind) X(connect) X(listen)		\
	X(accept) X(accept4) X(getsockopt) X(shutdown)			\
	X(close) X(fclose) X(close_range) X(closefrom)			\
	X(read) X(__read_chk) X(readv) X(recv) X(__recv_chk)		\
	X(recvfrom) X(__recvfrom_chk) X(recvmsg)			\
	X(write) X(writev) X(send) X(sendto) X(sendmsg)			\
	X(sendfile) X(sendfile64)					\
	X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64)			\
	X(fork) ST__VFORK(X) X(_exit) X(_Exit)				\
	X(setuid) X(seteuid) X(setreuid) X(setresuid)			\
	X(setsockopt) ST__SYSCALL(X)					\
	X(sendmmsg) X(recvmmsg)						\
	X(setrlimit) X(setrlimit64) X(prlimit) X(prlimit64)		\
	X(prctl)
/* clang-format on */

/* An index per exported name: ST__X_read, ..., and their count. */
#define ST__INDEX(name) ST__X_##name,
enum st__export { ST_EXPORT_TABLE(ST__INDEX) ST__NEXPORT };
#undef ST__INDEX

/* Default visibility for the wrapper of NAME, a row of ST_EXPORT_TABLE. */
#define ST_EXPORT(name)                                                   \
	_Static_assert(ST__X_##name < ST__NEXPORT, #name " is exported"); \
	__attribute__((visibility("default")))

/* Exports NAME, a row of ST_EXPORT_TABLE, as another name of WRAPPER
 * (defined in the same file: the same function, at the same address). */
#define ST_ALIAS(name, wrapper) \
	ST_EXPORT(name)         \
	extern __typeof__(wrapper) name __attribute__((alias(#wrapper)))

/* The library's own entry points (attach.c), exported as they are. */
#define ST_API __attribute__((visibility("default")))

#endif
