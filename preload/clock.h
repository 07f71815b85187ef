/* SPDX-License-Identifier: MIT */
/* The hot path's clock (clock.c): CLOCK_MONOTONIC from the TSC. */
#ifndef ST_PRELOAD_CLOCK_H
#define ST_PRELOAD_CLOCK_H

#include "base.h"

/*
 * CLOCK_MONOTONIC ns, from the TSC when the kernel's clock is the TSC
 * (clock.c): a thread's anchor, a (TSC, ns) pair, and the rate turn a
 * TSC reading into ns.  gen is odd while the anchor moves; a signal
 * handler that finds it so, or sees it change under it, asks the kernel.
 */
struct st__tsc {
	uint64_t tsc, ns; /* the anchor */
	uint64_t mult;	  /* ns per tick, 32.32 fixed point */
	uint64_t limit;	  /* ticks the anchor is used for; 0: not yet */
	uint64_t base_tsc, base_ns; /* where the rate is measured from */
	uint32_t gen;
	uint32_t loose; /* anchors in a row read too slowly to use */
};
extern bool st__tsc_ok;
extern ST_TLS struct st__tsc st__tsc;
/* Reads /sys once: is CLOCK_MONOTONIC the TSC here? */
void st__clock_init(void);
/* CLOCK_MONOTONIC ns from the kernel; takes a new anchor when it can. */
uint64_t st__now_slow(void);

static inline uint64_t st__rdtsc(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

/* CLOCK_MONOTONIC ns: the TSC scaled by this thread's anchor, or the
 * kernel's clock while there is no usable anchor.  Signal-safe. */
static inline uint64_t st__now(void)
{
	if (likely(st__tsc_ok)) {
		struct st__tsc *k = &st__tsc;
		uint32_t g = k->gen;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		uint64_t d = st__rdtsc() - k->tsc;
		uint64_t ns =
			k->ns +
			(uint64_t)(((unsigned __int128)d * k->mult) >> 32);
		bool ok = d < k->limit;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (likely(ok && !(g & 1) && k->gen == g))
			return ns;
	}
	return st__now_slow();
}

#endif
