/* SPDX-License-Identifier: MIT */
/* The entry points socktrace attach calls (attach.c). */
#ifndef ST_PRELOAD_ATTACH_H
#define ST_PRELOAD_ATTACH_H

#include "exports.h"

/*
 * Attach (attach.c): socktrace attach, through ptrace, calls these.
 * socktrace_attach_init records into DIR from now on, for LEASE_NS
 * unless the viewer renews the lease; socktrace_detach stops and puts
 * back what attach changed.  0 or -errno.
 */
ST_API int socktrace_attach_init(const char *dir, uint64_t lease_ns);
ST_API int socktrace_detach(void);

#endif
