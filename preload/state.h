/* SPDX-License-Identifier: MIT */
/* Process-wide state (state.c): tracing on/off, identity, configuration. */
#ifndef ST_PRELOAD_STATE_H
#define ST_PRELOAD_STATE_H

#include "base.h"

/* Tracing state (st__state). */
enum { ST_OFF_INIT, ST_BUSY_INIT, ST_ON, ST_OFF };
extern int st__state;

/*
 * Set while this thread is a vfork child (wrap_fork.c): it shares the
 * parent's memory, our tables included, but has its own fds.  It records
 * nothing and changes no table until it execs or exits.
 */
extern ST_TLS int st__vforked;

/*
 * Loaded by socktrace attach (dlopen into a running process) rather
 * than preloaded: idle until socktrace_attach_init; real functions are
 * looked up in the global scope (RTLD_NEXT means nothing for an object
 * outside it); records are written only while the viewer's lease runs.
 */
extern bool st__injected;
extern bool st__attached; /* socktrace_attach_init ran at least once */

/* Configuration read from the environment. */
struct st__config {
	char dir[512];
	uint64_t max_size;
	uint32_t policy;
	bool debug;
	bool tcp_info; /* TCP_INFO per connection (SOCKTRACE_TCP_INFO) */
	/* the program installed a seccomp filter: no system call of ours
	 * beyond the program's own may run (it could be killed for it) */
	bool sandboxed;
};
extern struct st__config st__cfg;
/* Reads SOCKTRACE_* into st__cfg; works before libc set environ up. */
void st__config_read(void);

/* Prints "socktrace: MSG[: strerror(ERR)]" on stderr if SOCKTRACE_DEBUG
 * is set; ERR 0 adds nothing.  One write(2), async-signal-safe. */
void st__debug(const char *msg, int err);

/* Process identity cached for the hot path; reset in a fork child. */
extern int32_t st__pid;
/* This thread's id, cached (0: not yet asked, or reset in a fork child). */
extern ST_TLS int32_t st__tls_tid;
/* Asks the kernel for this thread's id and caches it. */
int32_t st__tid_slow(void);
static inline int32_t st__tid(void)
{
	int32_t t = st__tls_tid;

	return likely(t != 0) ? t : st__tid_slow();
}

#endif
