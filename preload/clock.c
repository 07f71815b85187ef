/* SPDX-License-Identifier: MIT */
/* The hot path's clock: CLOCK_MONOTONIC read from the TSC when it can be. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

#include "clock.h"

/*
 * Every record takes two timestamps.  clock_gettime() costs about 25 ns
 * here (the vDSO reads the TSC and scales it); reading the TSC ourselves
 * costs 10.  When the kernel's CLOCK_MONOTONIC is itself the TSC
 * (clocksource "tsc": synchronised across CPUs, constant rate), each
 * thread keeps an anchor, a (TSC, CLOCK_MONOTONIC) pair read together,
 * and the rate between two anchors, and turns TSC readings into
 * CLOCK_MONOTONIC ns by that line.  Records keep CLOCK_MONOTONIC ns, so
 * trace files and the viewer do not change.
 *
 * Error: the anchor pair is read within TIGHT ticks (a pair a preemption
 * split is not used), and a new anchor is taken once the last is
 * REFRESH_NS old, so a time is off by at most half of TIGHT plus the rate
 * error over REFRESH_NS; the rate is measured over at least RATE_NS,
 * which keeps NTP's slewing in.  Typically a few ns; see README.
 */
#define REFRESH_NS    1000000ull   /* a new anchor every millisecond */
#define RATE_NS	      100000000ull /* the rate measured over 100 ms or more */
#define FIRST_RATE_NS 1000000ull   /* ... or 1 ms for a thread's first one */
#define TIGHT	      300	   /* ticks the anchor's reads may span */
#define LOOSE_MAX     8 /* loose anchors in a row: this thread stops trying */

bool st__tsc_ok;
ST_TLS struct st__tsc st__tsc;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void st__clock_init(void)
{
	char buf[16] = "";
	long fd = st__sys(SYS_openat, AT_FDCWD,
			  (long)"/sys/devices/system/clocksource/clocksource0/"
				"current_clocksource",
			  O_RDONLY | O_CLOEXEC, 0, 0, 0);

	if (fd >= 0) {
		long n = st__sys(SYS_read, fd, (long)buf, sizeof(buf) - 1, 0, 0,
				 0);
		buf[n > 0 ? n : 0] = 0;
		st__sys(SYS_close, fd, 0, 0, 0, 0, 0);
	}
	st__tsc_ok = !strcmp(buf, "tsc\n");
}

uint64_t st__now_slow(void)
{
	struct st__tsc *k = &st__tsc;
	uint64_t t0, t1, ns;

	/* the TSC is not the clock; or a signal handler interrupted this
	 * thread while it was moving its anchor; or clock_gettime is slow
	 * here (no vDSO: a system call), so anchors are never tight */
	if (!st__tsc_ok || (k->gen & 1) || k->loose >= LOOSE_MAX)
		return mono_ns();
	t0 = st__rdtsc();
	ns = mono_ns();
	t1 = st__rdtsc();
	if (t1 - t0 > TIGHT) {
		k->loose++; /* preempted in between, or slow: no anchor now */
		return ns;
	}
	k->loose = 0;
	uint64_t tsc = t0 + (t1 - t0) / 2;
	k->gen++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (k->base_ns && (tsc <= k->base_tsc || ns <= k->base_ns)) {
		/* the TSC went back (a migrated VM?): measure afresh */
		k->mult = 0;
		k->base_ns = 0;
	} else if (k->base_ns &&
		   ns - k->base_ns >= (k->mult ? RATE_NS : FIRST_RATE_NS)) {
		k->mult = (uint64_t)(((unsigned __int128)(ns - k->base_ns)
				      << 32) /
				     (tsc - k->base_tsc));
		k->base_ns = 0;
	}
	if (!k->base_ns) {
		k->base_ns = ns;
		k->base_tsc = tsc;
	}
	k->ns = ns;
	k->tsc = tsc;
	/* ticks until the next anchor; none while there is no rate yet */
	uint64_t limit = 0;
	if (k->mult)
		limit = (uint64_t)(((unsigned __int128)REFRESH_NS << 32) /
				   k->mult);
	k->limit = limit;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	k->gen++;
	return ns;
}
