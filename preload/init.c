/* SPDX-License-Identifier: MIT */
/* Start-up of the preload library: enabling, attach start, fork, exit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"
#include "clock.h"
#include "fdtab.h"
#include "real.h"
#include "record.h"
#include "state.h"
#include "writer.h"

static void after_fork_child(void)
{
	st__tls_tid = 0;
	st__pid = (int32_t)st__sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	st__writer_after_fork();
}

static void at_exit(void)
{
	st__record_exit();
	st__writer_exit();
}

/* Fork and exit hooks, registered once (start-up, or the first attach). */
static int hooks(void)
{
	static bool done;

	if (done)
		return 0;
	if (pthread_atfork(NULL, NULL, after_fork_child) || atexit(at_exit))
		return -ENOMEM;
	done = true;
	return 0;
}

bool st__init_slow(void)
{
	int expect = ST_OFF_INIT;

	/* one thread initialises; the others pass through meanwhile */
	if (!__atomic_compare_exchange_n(&st__state, &expect, ST_BUSY_INIT,
					 false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	int e = errno;
	int next = ST_ON;
	st__config_read();
	st__pid = (int32_t)st__sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	if (getauxval(AT_SECURE)) {
		/* setuid/setgid/capabilities: never write files for them */
		st__debug("secure execution (setuid or capabilities): "
			  "tracing disabled",
			  0);
		next = ST_OFF;
	} else {
		st__clock_init();
		st__resolve();
		if (hooks())
			next = ST_OFF;
	}
	__atomic_store_n(&st__state, next, __ATOMIC_RELEASE);
	errno = e;
	return next == ST_ON;
}

/*
 * Preloaded (or linked in), we are in the program's global scope; loaded
 * by socktrace attach with dlopen, we are not: then nothing calls our
 * wrappers until socktrace_attach_init redirects calls to them.
 */
static bool in_global_scope(void)
{
	void *prog = dlopen(NULL, RTLD_LAZY);
	/* the global scope's socktrace_attach_init is ours if it lies in
	 * the object this function lies in (asked by address, so that
	 * start-up does not depend on attach.c) */
	void *sym = prog ? dlsym(prog, "socktrace_attach_init") : NULL;
	Dl_info ours, theirs;
	bool in = sym && dladdr((void *)in_global_scope, &ours) &&
		  dladdr(sym, &theirs) && ours.dli_fbase == theirs.dli_fbase;

	if (prog)
		dlclose(prog);
	return in;
}

int st__attach_start(const char *dir)
{
	if (!st__injected)
		return -EEXIST; /* preloaded: it records already */
	/* wrappers pass calls through while this runs (state is not ON) */
	st__config_read();
	st__pid = (int32_t)st__sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	st__resolve();
	int rc = hooks();
	if (rc)
		return rc;
	snprintf(st__cfg.dir, sizeof(st__cfg.dir), "%s", dir);
	st__fd_reset();
	st__attached = true;
	return 0;
}

__attribute__((constructor)) static void st_init(void)
{
	if (__atomic_load_n(&st__state, __ATOMIC_RELAXED) != ST_OFF_INIT)
		return;
	/* loaded by dlopen: idle until attach (or until the program that
	 * loaded us calls a wrapper itself) */
	if (!in_global_scope()) {
		st__injected = true;
		return;
	}
	st__init_slow();
}
