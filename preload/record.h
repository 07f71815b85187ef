/* SPDX-License-Identifier: MIT */
/* Filling records (record.c): addresses, TCP state, data calls, seen fds. */
#ifndef ST_PRELOAD_RECORD_H
#define ST_PRELOAD_RECORD_H

#include "writer.h"

/* These helpers leave errno as they found it. */
/* Fills A from a kernel-validated sockaddr of LEN bytes. */
void st__addr_set(struct st_addr *a, const struct sockaddr *sa, socklen_t len);
/* A's local (getsockname) or peer (getpeername) address of FD. */
void st__addr_local(struct st_addr *a, int fd);
void st__addr_peer(struct st_addr *a, int fd);
/* Pid of the process that connected a Unix stream socket, 0 if unknown. */
int32_t st__peer_pid(int fd);
/* TCP state of FD (TCP_* value), 0 if not known. */
uint32_t st__tcp_state(int fd);
/* What closing TCP socket FD (word W, its close started at TS) will do,
 * asked just before the close, into K: its state (TCP_*, 0 if not
 * known; also returned), the receive queue's bytes and SO_LINGER, the
 * TCP_INFO figures or a listener's queue, flagged in close_flags
 * (ST_CLOSE_*).  A connected socket's counters go into a tcpinfo
 * record written here, before the close's own. */
uint32_t st__tcp_close_info(int fd, uint64_t ts, uint64_t w,
			    struct st_p_close *k);
/* At exit (exit, _exit): an exit_close record of each TCP socket the
 * process still holds, with what the kernel says of it before the exit
 * closes it (its state: CLOSE_WAIT, the peer closed first). */
void st__record_exit(void);
/* Accept-queue length and limit of a TCP listener; false if unknown. */
bool st__tcp_queue(int fd, uint32_t *len, uint32_t *max);

/* Records the data call CALL on a socket: ASKED bytes requested, FLAGS
 * and the address SA of SALEN bytes, if any (kept when RET >= 0). */
void st__data(struct st__call *c, enum st_call call, ssize_t ret, int err,
	      uint64_t asked, int flags, const struct sockaddr *sa,
	      socklen_t salen);

/* Records sendmmsg or recvmmsg (CALL) on a socket: RET messages moved
 * of the N offered in V, with FLAGS; the bytes are the sum of the msg_len
 * the kernel wrote into the first RET entries (it wrote no others). */
void st__mmsg(struct st__call *c, enum st_call call, int ret, int err,
	      const struct mmsghdr *v, unsigned n, int flags);

/* Classifies FD as st__fd_classify does and, for a socket, writes a seen
 * record of what it is now, with FLAGS (ST_SEEN_*) added (record.c).
 * Returns the fd's new word; errno may change. */
uint64_t st__fd_seen(int fd, uint32_t flags);

#endif
