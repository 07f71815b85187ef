/* SPDX-License-Identifier: MIT */
/* Start-up (init.c): tracing enabled on the first call, attach start. */
#ifndef ST_PRELOAD_INIT_H
#define ST_PRELOAD_INIT_H

#include "state.h"

/* Initialises the library on the first call that finds it off (one
 * thread does; the others pass their calls through meanwhile); true
 * when calls are to be recorded. */
bool st__init_slow(void);
/* True when calls should be recorded; runs initialisation if needed. */
static inline bool st__on(void)
{
	int s = __atomic_load_n(&st__state, __ATOMIC_RELAXED);
	if (likely(s == ST_ON))
		return likely(!st__vforked);
	return s == ST_OFF_INIT && !st__vforked && st__init_slow();
}
/* Configuration and start-up for an attach recording into DIR (first
 * time: resolve, fork and exit hooks); fd table emptied. 0 or -errno. */
int st__attach_start(const char *dir);

#endif
