/* SPDX-License-Identifier: MIT */
/* Hand-built records and trace sets for the model's stage tests. */
#ifndef ST_TESTS_MODEL_FIXTURE_H
#define ST_TESTS_MODEL_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "load.h"
#include "socktrace/format.h"

/* Times in the tests are milliseconds, records in nanoseconds. */
#define MS 1000000ull

/* A trace set of N processes: pid 100 + i, comm "proc<i>", no loss. */
static inline struct st_traceset *fx_set(int n)
{
	struct st_traceset *s = calloc(1, sizeof(*s));

	s->t = calloc(n, sizeof(*s->t));
	s->n = n;
	for (int i = 0; i < n; i++) {
		s->t[i].hdr.pid = 100 + i;
		s->t[i].hdr.ppid = 1;
		snprintf(s->t[i].hdr.comm, sizeof(s->t[i].hdr.comm), "proc%d",
			 i);
	}
	return s;
}

static inline void fx_set_free(struct st_traceset *s)
{
	free(s->t);
	free(s);
}

/* 127.0.0.1:PORT */
static inline struct st_addr fx_v4(uint16_t port)
{
	struct st_addr a = { .family = AF_INET, .port = port };

	a.data[0] = 127;
	a.data[3] = 1;
	return a;
}

/* ::ffff:127.0.0.1:PORT, as a dual-stack server sees a v4 client */
static inline struct st_addr fx_mapped(uint16_t port)
{
	struct st_addr a = { .family = AF_INET6, .port = port };

	a.data[10] = a.data[11] = 0xff;
	a.data[12] = 127;
	a.data[15] = 1;
	return a;
}

static inline struct st_addr fx_unix(const char *path)
{
	struct st_addr a = { .family = AF_UNIX };

	strncpy((char *)a.data, path, sizeof(a.data));
	return a;
}

/* A record of CALL on FD (connection CONN) from TS_MS to TS_MS + 1 µs. */
static inline struct st_rec fx_rec(uint16_t call, int fd, uint64_t conn,
				   uint64_t ts_ms, int64_t ret)
{
	struct st_rec r;

	memset(&r, 0, sizeof(r));
	r.call = call;
	r.fd = fd;
	r.conn = conn;
	r.ts = ts_ms * MS;
	r.dur = 1000;
	r.ret = ret;
	return r;
}

/* The same record, failed with ERR. */
static inline struct st_rec fx_err(struct st_rec r, int err)
{
	r.flags |= ST_REC_ERR;
	r.err = (uint16_t)err;
	r.ret = -1;
	return r;
}

static inline struct st_rec fx_socket(int fd, uint64_t conn, uint64_t ts,
				      int domain, int type)
{
	struct st_rec r = fx_rec(ST_CALL_socket, fd, conn, ts, fd);

	r.u.sock.domain = domain;
	r.u.sock.socktype = type;
	return r;
}

static inline struct st_rec fx_connect(int fd, uint64_t conn, uint64_t ts,
				       struct st_addr peer,
				       struct st_addr local)
{
	struct st_rec r = fx_rec(ST_CALL_connect, fd, conn, ts, 0);

	r.u.connect.addr = peer;
	r.u.connect.local = local;
	return r;
}

static inline struct st_rec fx_bind(int fd, uint64_t conn, uint64_t ts,
				    struct st_addr local)
{
	struct st_rec r = fx_rec(ST_CALL_bind, fd, conn, ts, 0);

	r.u.addr.addr = local;
	return r;
}

static inline struct st_rec fx_listen(int fd, uint64_t conn, uint64_t ts,
				      struct st_addr local, int backlog,
				      int effective)
{
	struct st_rec r = fx_rec(ST_CALL_listen, fd, conn, ts, 0);

	r.u.listen.backlog = backlog;
	r.u.listen.effective_backlog = effective;
	r.u.listen.somaxconn = effective;
	r.u.listen.local = local;
	return r;
}

/* accept on listener LFD (LCONN) returning NFD, connection number CNUM. */
static inline struct st_rec fx_accept(int lfd, uint64_t lconn, uint64_t ts,
				      int nfd, uint32_t cnum,
				      struct st_addr peer, struct st_addr local)
{
	struct st_rec r = fx_rec(ST_CALL_accept, lfd, lconn, ts, nfd);

	r.u.accept.peer = peer;
	r.u.accept.local = local;
	r.u.accept.conn2 = cnum;
	return r;
}

static inline struct st_rec fx_data(uint16_t call, int fd, uint64_t conn,
				    uint64_t ts, int64_t ret)
{
	return fx_rec(call, fd, conn, ts, ret);
}

static inline struct st_rec fx_close(int fd, uint64_t conn, uint64_t ts,
				     uint32_t tcp_state)
{
	struct st_rec r = fx_rec(ST_CALL_close, fd, conn, ts, 0);

	r.u.close.tcp_state = tcp_state;
	return r;
}

static inline struct st_rec fx_shutdown(int fd, uint64_t conn, uint64_t ts,
					int how)
{
	struct st_rec r = fx_rec(ST_CALL_shutdown, fd, conn, ts, 0);

	r.u.how.how = how;
	return r;
}

#endif
