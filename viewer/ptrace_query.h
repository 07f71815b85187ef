/* SPDX-License-Identifier: MIT */
/* The ptrace mode's kernel queries (ptrace_query.c): copies, addresses. */
#ifndef ST_VIEWER_PTRACE_QUERY_H
#define ST_VIEWER_PTRACE_QUERY_H

#include "ptrace.h"

/* A copy of process P's fd FD in the tracer (pidfd_getfd; the caller
 * closes it), or -1. */
int st_pq_copy(const struct st_pproc *p, int fd);
/* Reads LEN bytes at AT of task TID into BUF; false if not all. */
bool st_pq_read(pid_t tid, unsigned long at, void *buf, size_t len);
/* The sockaddr of LEN bytes at AT in task TID into A (zero if none). */
void st_pq_addr(pid_t tid, unsigned long at, unsigned long len,
		struct st_addr *a);
/* The local and peer addresses of socket COPY into A (zero if none). */
void st_pq_local(int copy, struct st_addr *a);
void st_pq_peer(int copy, struct st_addr *a);
/* The pid that connected Unix socket COPY, 0 if not known. */
int32_t st_pq_peer_pid(int copy);
/* The record's ST_SOCK_* of a socket of DOMAIN and TYPE. */
uint16_t st_pq_sock(int domain, int type);
/* Is SOCK (ST_SOCK_*) a TCP socket? */
bool st_pq_is_tcp(uint16_t sock);
/* TCP state of COPY (TCP_*), 0 if not known. */
uint32_t st_pq_tcp_state(int copy);
/* Accept-queue length and limit of TCP listener COPY; false if not. */
bool st_pq_queue(int copy, uint32_t *len, uint32_t *max);
/* What closing TCP socket COPY will do, as the preload's close record
 * holds it, into K; a connected socket's lifetime counters into C
 * (then true: a tcpinfo record is due). */
bool st_pq_close_info(int copy, struct st_p_close *k, struct st_p_tcpinfo *c);
/* The fds of process PID that are sockets (from /proc), into *FDS
 * (malloc'd); their number. */
int st_pq_sockets(pid_t pid, int **fds);

#endif
