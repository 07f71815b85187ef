/* SPDX-License-Identifier: MIT */
/* The trace file (writer.c): records reserved, filled, published. */
#ifndef ST_PRELOAD_WRITER_H
#define ST_PRELOAD_WRITER_H

#include "base.h"

/* Makes the trace file if needed and sets its lease (attach_until);
 * 0 or -errno. */
int st__writer_attach(uint64_t until);
/* In a fork child: forgets the parent's file; the child makes its own. */
void st__writer_after_fork(void);
/* Stores the exit time in the trace file's header, if there is one. */
void st__writer_exit(void);
/* The process is about to change its effective uid: make and fully
 * allocate its trace file while it may still write in the directory. */
void st__writer_before_uid_change(void);
/* The process set a finite RLIMIT_AS: the trace gives back the address
 * space it reserved but has not mapped, and grows no more. */
void st__writer_limit_as(void);
/* Has this process a trace file (has it recorded anything)? */
bool st__writer_has_file(void);
/* net.core.somaxconn as read once when the trace file was made. */
int32_t st__somaxconn(void);

/*
 * Records (writer.c).  One traced call in progress: st__enter*() (wrap.h)
 * take the start time and keep errno as the program left it; st__rec()
 * reserves a record and fills the common fields; st__publish() makes it
 * visible to readers.
 */
struct st__call {
	uint64_t ts;
	uint64_t word;
	uint64_t seq;
	int fd;
};

/* Reserves a record for call CALL that returned RET with errno ERR (used
 * when RET < 0); NULL if the record cannot be stored (counted as lost). */
struct st_rec *st__rec(struct st__call *c, enum st_call call, int64_t ret,
		       int err);
static inline void st__publish(struct st__call *c, struct st_rec *r)
{
	__atomic_store_n(&r->seq, c->seq, __ATOMIC_RELEASE);
}

#endif
