/* SPDX-License-Identifier: MIT */
/* Wrappers for _exit and _Exit: the exit time, as exit() records it. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

#include "wrap.h"

/*
 * exit() runs our atexit handler; _exit skips it, and forked children
 * and servers' workers often end that way.  Without an exit time their
 * sockets would show as open at death, as if the process had been
 * killed.  A vfork child's _exit is not the parent's.
 */
ST_EXPORT(_exit) void _exit(int status)
{
	if (!st__vforked) {
		st__record_exit();
		st__writer_exit();
	}
	REAL(_exit)(status);
	__builtin_unreachable();
}

/* _Exit(2): calls _exit, which is this library's when preloaded. */
ST_EXPORT(_Exit) void _Exit(int status)
{
	_exit(status);
}
