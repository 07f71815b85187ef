/* SPDX-License-Identifier: MIT */
/* Writes a synthetic trace of N client/server connections, for scale tests. */

/*
 * gen_trace DIR N: a client process (pid 1000) makes N connections to a
 * server (pid 1001) on 127.0.0.1:80, one after another; each is socket,
 * connect, write, read, close on the client and accept, read, write,
 * read = 0 (EOF), close on the server: 10 records, and the files are
 * exactly what libsocktrace.so would write for them.  Joining, states
 * and memory of the viewer can then be measured at any size.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "socktrace/format.h"

struct out {
	FILE *f;
	struct st_header h;
	uint64_t n;
};

static void open_out(struct out *o, const char *dir, const char *comm, int pid,
		     uint64_t records)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s-%d.trace", dir, comm, pid);
	o->f = fopen(path, "w");
	if (!o->f) {
		perror(path);
		exit(1);
	}
	memset(&o->h, 0, sizeof(o->h));
	st_header_layout(&o->h, records, ST_POLICY_STOP);
	o->h.pid = pid;
	o->h.ppid = 1;
	o->h.somaxconn = 4096;
	o->h.mono_ns = 1000000000;
	o->h.real_ns = 1700000000ull * 1000000000ull;
	snprintf(o->h.comm, sizeof(o->h.comm), "%s", comm);
	snprintf(o->h.exe, sizeof(o->h.exe), "/usr/bin/%s", comm);
	snprintf(o->h.host, sizeof(o->h.host), "gen");
	o->h.next = o->h.mapped = records;
	if (fwrite(&o->h, sizeof(o->h), 1, o->f) != 1) {
		perror("write");
		exit(1);
	}
	o->n = 0;
}

static void close_out(struct out *o, uint64_t exit_ts)
{
	o->h.exit_ts = exit_ts;
	if (o->n != o->h.next || fseek(o->f, 0, SEEK_SET) ||
	    fwrite(&o->h, sizeof(o->h), 1, o->f) != 1 || fclose(o->f)) {
		fprintf(stderr, "gen_trace: write failed (%llu of %llu)\n",
			(unsigned long long)o->n,
			(unsigned long long)o->h.next);
		exit(1);
	}
}

static struct st_rec *rec(struct st_rec *r, enum st_call call, uint64_t ts,
			  int fd, int64_t ret, uint64_t conn)
{
	memset(r, 0, sizeof(*r));
	r->ts = ts;
	r->dur = 500;
	r->call = (uint16_t)call;
	r->fd = fd;
	r->ret = ret;
	r->conn = conn;
	return r;
}

static struct st_rec *tcp_socket(struct st_rec *r, uint64_t ts, int fd,
				 uint64_t conn)
{
	rec(r, ST_CALL_socket, ts, fd, fd, conn);
	r->u.sock.domain = AF_INET;
	r->u.sock.socktype = SOCK_STREAM;
	r->u.sock.protocol = IPPROTO_TCP;
	r->u.sock.fd2 = -1;
	return r;
}

static void put(struct out *o, struct st_rec *r)
{
	r->seq = ++o->n;
	r->tid = o->h.pid;
	if (fwrite(r, sizeof(*r), 1, o->f) != 1) {
		perror("write");
		exit(1);
	}
}

static struct st_addr addr(unsigned ip_low, unsigned port)
{
	struct st_addr a = { .family = AF_INET, .port = (uint16_t)port };
	uint32_t ip = htonl(0x7f000000u | ip_low);

	memcpy(a.data, &ip, 4);
	return a;
}

int main(int argc, char **argv)
{
	struct out cl, sv;
	struct st_rec r;

	if (argc != 3) {
		fprintf(stderr, "usage: gen_trace DIR CONNECTIONS\n");
		return 2;
	}
	uint64_t n = strtoull(argv[2], NULL, 10);
	open_out(&cl, argv[1], "client", 1000, n * 5);
	open_out(&sv, argv[1], "server", 1001, 3 + n * 5 + 1);
	uint64_t t = 2000000000, lconn = st_conn_id(1001, 1);
	struct st_addr srv = addr(1, 80);

	put(&sv, tcp_socket(&r, t, 3, lconn));
	rec(&r, ST_CALL_bind, t + 1000, 3, 0, lconn)->u.addr.addr = srv;
	put(&sv, &r);
	rec(&r, ST_CALL_listen, t + 2000, 3, 0, lconn);
	r.u.listen.backlog = r.u.listen.effective_backlog = 511;
	r.u.listen.somaxconn = 4096;
	r.u.listen.local = srv;
	put(&sv, &r);
	t += 10000;
	for (uint64_t i = 0; i < n; i++, t += 20000) {
		/* distinct 4-tuples: client addresses 127.0.x.y, many ports */
		struct st_addr me = addr(2 + (unsigned)(i / 50000) % 60000,
					 10000 + (unsigned)(i % 50000));
		uint64_t cc = st_conn_id(1000, (uint32_t)i + 1);
		uint64_t sc = st_conn_id(1001, (uint32_t)i + 2);

		put(&cl, tcp_socket(&r, t, 3, cc));
		rec(&r, ST_CALL_connect, t + 1000, 3, 0, cc);
		r.u.connect.addr = srv;
		r.u.connect.local = me;
		put(&cl, &r);
		rec(&r, ST_CALL_accept4, t + 2000, 3, 4, lconn);
		r.u.accept.peer = me;
		r.u.accept.local = srv;
		r.u.accept.queue_max = 511;
		r.u.accept.conn2 = (uint32_t)sc;
		put(&sv, &r);
		rec(&r, ST_CALL_write, t + 3000, 3, 100, cc)->u.data.asked =
			100;
		put(&cl, &r);
		rec(&r, ST_CALL_read, t + 4000, 4, 100, sc)->u.data.asked =
			4096;
		put(&sv, &r);
		rec(&r, ST_CALL_write, t + 5000, 4, 200, sc)->u.data.asked =
			200;
		put(&sv, &r);
		rec(&r, ST_CALL_read, t + 6000, 3, 200, cc)->u.data.asked =
			4096;
		put(&cl, &r);
		rec(&r, ST_CALL_close, t + 7000, 3, 0, cc)->u.close.tcp_state =
			TCP_ESTABLISHED;
		put(&cl, &r);
		rec(&r, ST_CALL_read, t + 8000, 4, 0, sc)->u.data.asked = 4096;
		put(&sv, &r);
		rec(&r, ST_CALL_close, t + 9000, 4, 0, sc)->u.close.tcp_state =
			TCP_CLOSE_WAIT;
		put(&sv, &r);
	}
	put(&sv, rec(&r, ST_CALL_close, t, 3, 0, lconn));
	close_out(&cl, t + 1000);
	close_out(&sv, t + 1000);
	return 0;
}
