/* SPDX-License-Identifier: MIT */
/* The program's own resource limits, as they bound the trace file. */
#ifndef ST_PRELOAD_LIMITS_H
#define ST_PRELOAD_LIMITS_H

#include "base.h"

/* The trace keeps to at most this share of the address space a finite
 * RLIMIT_AS leaves the program, and to at most ST_AS_MAX bytes. */
#define ST_AS_SHARE 16
#define ST_AS_MAX   (1u << 20)

/* The file size RLIMIT_FSIZE allows now, in bytes; UINT64_MAX when the
 * limit is infinite (or cannot be read). */
uint64_t st__fsize_max(void);
/* The address space the trace may take, in bytes: under a finite
 * RLIMIT_AS, 1/ST_AS_SHARE of what the limit leaves the program now, at
 * most ST_AS_MAX (0 when nothing is left); else UINT64_MAX.  MINE bytes
 * mapped now are the trace's own, to be given back: not counted. */
uint64_t st__as_budget(uint64_t mine);
/* After a file operation of ours failed with EFBIG while signals were
 * blocked (the program's mask OLD): takes the SIGXFSZ it raised back, so
 * the program never gets it.  Left alone when the program blocks SIGXFSZ
 * itself (it may have one pending of its own). */
void st__xfsz_forget(uint64_t old);

#endif
