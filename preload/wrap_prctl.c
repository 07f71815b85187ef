/* SPDX-License-Identifier: MIT */
/* Wrappers for the calls that install a seccomp filter (not recorded). */
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/prctl.h>

#include "wrap.h"

/*
 * A program that installs a seccomp filter (sshd's privilege-separated
 * child, a browser's renderer) may be killed by the first system call
 * its filter does not list.  From then on the library makes no system
 * call of its own that the program's calls do not make already: no
 * TCP_INFO or FIONREAD at close or accept, no queries at exit.
 */
static void after(int ret)
{
	if (!ret)
		st__cfg.sandboxed = true;
}

/* prctl(2): PR_SET_SECCOMP marks the process sandboxed. */
ST_EXPORT(prctl) int prctl(int option, ...)
{
	va_list ap;
	unsigned long a[4];

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	int ret = REAL(prctl)(option, a[0], a[1], a[2], a[3]);
	if (option == PR_SET_SECCOMP) {
		int e = errno;
		after(ret);
		errno = e;
	}
	return ret;
}

/* syscall(SYS_seccomp, ...) (libseccomp's way): the same. */
ST_SYSCALL(seccomp)
{
	long ret = REAL(syscall) ST_SC_ARGS;
	int e = errno;

	if (a[0] == SECCOMP_SET_MODE_FILTER || a[0] == SECCOMP_SET_MODE_STRICT)
		after((int)ret);
	errno = e;
	return ret;
}
