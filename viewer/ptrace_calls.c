/* SPDX-License-Identifier: MIT */
/* The ptrace mode's calls: what each stop asks, and the records written. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ptrace_query.h"
#include "trace.h"

/* The entry of P's fd FD (a NONE entry beyond the table). */
static struct st_pfd fd_at(const struct st_pproc *p, long fd)
{
	struct st_pfd none = { 0 };

	return fd >= 0 && fd < p->nfds ? p->fds[fd] : none;
}

static void fd_put(struct st_pproc *p, long fd, struct st_pfd f)
{
	if (fd < 0 || fd >= (1 << 20))
		return;
	if (fd >= p->nfds) {
		int n = p->nfds ? p->nfds : 64;
		while (n <= fd)
			n *= 2;
		struct st_pfd *m = realloc(p->fds, n * sizeof(*m));
		if (!m) {
			fprintf(stderr, "socktrace: out of memory\n");
			exit(1);
		}
		memset(m + p->nfds, 0, (n - p->nfds) * sizeof(*m));
		p->fds = m;
		p->nfds = n;
	}
	p->fds[fd] = f;
}

static void fd_clear(struct st_pproc *p, long fd)
{
	struct st_pfd none = { 0 };

	if (fd >= 0 && fd < p->nfds)
		p->fds[fd] = none;
}

/* A new socket entry of P for a socket of DOMAIN and TYPE. */
static struct st_pfd new_sock(struct st_pproc *p, int domain, int type)
{
	struct st_pfd f = { .conn = st_conn_id(p->pid, ++p->nconn),
			    .sock = st_pq_sock(domain, type),
			    .state = ST_PFD_SOCK };
	return f;
}

/* A record of task T's call CALL on the socket F, returning RET (raw:
 * -errno on failure), started at TS; the caller fills the payload. */
static struct st_rec rec_of(const struct st_ptask *t, enum st_call call,
			    struct st_pfd f, long ret, uint64_t ts)
{
	struct st_rec r;
	uint64_t end = st_now_ns();

	memset(&r, 0, sizeof(r));
	r.ts = ts;
	r.dur = end > ts ? end - ts : 0;
	r.conn = f.conn;
	r.tid = t->tid;
	r.fd = (int32_t)t->a[0];
	r.call = (uint16_t)call;
	r.sock = f.sock;
	if (ret < 0 && ret >= -4095) {
		/* the program saw -1 and errno, as the preload records */
		r.ret = -1;
		r.err = (uint16_t)-ret;
		r.flags = ST_REC_ERR;
	} else {
		r.ret = ret;
	}
	return r;
}

/* Makes P's file, at its first record. */
static void file_of(struct st_pproc *p)
{
	if (!p->file_tried) {
		p->file_tried = true;
		st_pfile_open(&p->file, p->dir, p->pid, p->ppid,
			      p->data ? ST_SOURCE_PTRACE_DATA
				      : ST_SOURCE_PTRACE);
	}
}

/* Writes R into P's file. */
static void put(struct st_pproc *p, struct st_rec *r)
{
	file_of(p);
	st_pfile_put(&p->file, r);
}

/*
 * A socket the process had before its calls were seen (inherited, or
 * held across an exec): a seen record says what it is now, as the
 * preload writes one for an fd it finds late.  Its new entry.
 */
static struct st_pfd seen(struct st_ptask *t, long fd, uint32_t flags)
{
	struct st_pproc *p = t->p;
	int copy = st_pq_copy(p, (int)fd), dom = 0, type = 0, on = 0;
	socklen_t l = sizeof(int);

	if (copy < 0) {
		fd_clear(p, fd);
		return fd_at(p, fd);
	}
	getsockopt(copy, SOL_SOCKET, SO_DOMAIN, &dom, &l);
	l = sizeof(int);
	getsockopt(copy, SOL_SOCKET, SO_TYPE, &type, &l);
	struct st_pfd f = new_sock(p, dom, type);
	fd_put(p, fd, f);
	struct st_rec r = rec_of(t, ST_CALL_seen, f, 0, st_now_ns());
	r.fd = (int32_t)fd;
	r.u.seen.domain = dom;
	r.u.seen.socktype = type;
	r.u.seen.flags = flags;
	st_pq_local(copy, &r.u.seen.local);
	st_pq_peer(copy, &r.u.seen.peer);
	l = sizeof(int);
	if (getsockopt(copy, SOL_SOCKET, SO_ACCEPTCONN, &on, &l) == 0 && on)
		r.u.seen.flags |= ST_SEEN_LISTENING;
	if (st_pq_is_tcp(f.sock))
		r.u.seen.tcp_state = st_pq_tcp_state(copy);
	close(copy);
	put(p, &r);
	return f;
}

/* FD's entry, a socket seen late written as such first. */
static struct st_pfd sock_of(struct st_ptask *t, long fd)
{
	struct st_pfd f = fd_at(t->p, fd);

	return f.state == ST_PFD_UNSEEN ? seen(t, fd, 0) : f;
}

/* Asks what closing socket FD (entry F), whose copy in the tracer is
 * COPY, will do into K, and writes the tcpinfo record of a connected
 * TCP socket, as the preload does. */
static void ask_copy(struct st_ptask *t, long fd, struct st_pfd f, int copy,
		     struct st_p_close *k)
{
	struct st_p_tcpinfo c;

	memset(k, 0, sizeof(*k));
	if (copy < 0 || !st_pq_is_tcp(f.sock) || !st_pq_close_info(copy, k, &c))
		return;
	struct st_rec r = rec_of(t, ST_CALL_tcpinfo, f, 0, t->ts);
	r.fd = (int32_t)fd;
	r.u.tcpinfo = c;
	put(t->p, &r);
}

/*
 * A socket the call closes: its copy is taken at the entry stop and
 * held through the call, so the program's close does not end the
 * socket; at the exit stop the tracer asks the kernel and closes the
 * copy, which ends it (FIN or RST) before the program runs again.  The
 * question and the close are then back to back, as in the preload: a
 * FIN that arrives while the tracer resumes the call is not missed.
 */
static bool hold(struct st_ptask *t, long fd, struct st_pfd f)
{
	struct st_pproc *p = t->p;
	struct st_pclosing *m =
		realloc(t->closing, (t->nclosing + 1) * sizeof(*m));

	if (!m)
		return false;
	t->closing = m;
	if (t->nclosing == 0) {
		struct st_ptask **c =
			realloc(p->closers, (p->nclosers + 1) * sizeof(*c));
		if (!c)
			return false;
		p->closers = c;
		c[p->nclosers++] = t;
	}
	m += t->nclosing++;
	m->fd = (int)fd;
	m->f = f;
	m->copy = st_pq_is_tcp(f.sock) ? st_pq_copy(t->p, (int)fd) : -1;
	fd_clear(t->p, fd);
	return true;
}

/* Task T is done with its sockets in closing: off its process's list. */
static void closer_done(struct st_ptask *t)
{
	struct st_pproc *p = t->p;

	for (int i = 0; i < p->nclosers; i++)
		if (p->closers[i] == t) {
			p->closers[i] = p->closers[--p->nclosers];
			break;
		}
	t->nclosing = 0;
}

/* The records of socket C that task T's close or close_range (its
 * result RET) closed; its copy goes, which ends the socket. */
static void close_one(struct st_ptask *t, struct st_pclosing *c, long ret)
{
	enum st_call call =
		t->nr == SYS_close ? ST_CALL_close : ST_CALL_close_range;
	struct st_p_close k;

	ask_copy(t, c->fd, c->f, c->copy, &k);
	if (c->copy >= 0)
		close(c->copy); /* the socket's last reference, if it was the
				 * program's last fd */
	struct st_rec r = rec_of(t, call, c->f, ret, t->ts);
	r.fd = c->fd;
	/* the fd was free once the call was let go */
	r.dur = t->let_go > t->ts ? t->let_go - t->ts : 0;
	if (call == ST_CALL_close) {
		r.u.close = k;
	} else {
		r.u.range.first = (uint32_t)t->a[0];
		r.u.range.last = (uint32_t)t->a[1];
		r.u.range.flags = (int32_t)t->a[2];
#define CP(type, name) r.u.range.name = k.name;
		ST_SHAPE_close(CP)
#undef CP
	}
	put(t->p, &r);
	c->fd = -1;
	c->copy = -1;
}

/*
 * FD was just handed out again in process P (a socket, accept or dup
 * returned it).  A close of it by another thread, let go but whose exit
 * stop is not seen yet, has then run: its records are written now, so
 * the file never shows the number reused while still open.  A close
 * that released its fd returned 0 (a socket has no flush to fail).
 */
static void settle(struct st_pproc *p, long fd)
{
	for (int i = 0; i < p->nclosers; i++) {
		struct st_ptask *o = p->closers[i];
		for (int j = 0; j < o->nclosing; j++)
			if (o->closing[j].fd == fd)
				close_one(o, &o->closing[j], 0);
	}
}

/* close_range(first, last, flags): the sockets it closes, asked now. */
static bool enter_range(struct st_ptask *t)
{
	unsigned first = (unsigned)t->a[0], last = (unsigned)t->a[1];
	struct st_pproc *p = t->p;

	if ((t->a[2] & CLOSE_RANGE_CLOEXEC) || first >= (unsigned)p->nfds)
		return false;
	if (last >= (unsigned)p->nfds)
		last = (unsigned)p->nfds - 1;
	t->nclosing = 0;
	for (unsigned fd = first; fd <= last; fd++) {
		if (!p->fds[fd].state)
			continue;
		struct st_pfd f = sock_of(t, fd);
		if (!hold(t, fd, f))
			break;
	}
	return t->nclosing > 0;
}

/* The calls that name a socket first: known or seen late, else none. */
static bool enter_on_socket(struct st_ptask *t)
{
	t->f = sock_of(t, (long)t->a[0]);
	return t->f.state == ST_PFD_SOCK;
}

bool st_pcall_enter(struct st_ptask *t)
{
	long fd = (long)t->a[0];

	t->replaced = 0;
	t->qok = false;
	memset(&t->addr, 0, sizeof(t->addr));
	if (st_pdata_call(t->nr)) /* --data: on sockets only */
		return enter_on_socket(t);
	switch (t->nr) {
	case SYS_socket:
	case SYS_socketpair:
		return true;
	case SYS_bind:
	case SYS_connect:
		if (!enter_on_socket(t))
			return false;
		st_pq_addr(t->tid, t->a[1], t->a[2], &t->addr);
		return true;
	case SYS_accept:
	case SYS_accept4:
		if (!enter_on_socket(t))
			return false;
		if (st_pq_is_tcp(t->f.sock)) {
			int copy = st_pq_copy(t->p, (int)fd);
			t->qok = st_pq_queue(copy, &t->qlen, &t->qmax);
			if (copy >= 0)
				close(copy);
		}
		return true;
	case SYS_close:
		if (!enter_on_socket(t)) {
			fd_clear(t->p, fd);
			return false;
		}
		t->nclosing = 0;
		return hold(t, fd, t->f);
	case SYS_close_range:
		return enter_range(t);
	case SYS_dup2:
	case SYS_dup3:
		if ((long)t->a[1] != fd) {
			struct st_pfd o = sock_of(t, (long)t->a[1]);
			t->replaced = o.state == ST_PFD_SOCK ? o.conn : 0;
		}
		return enter_on_socket(t) || t->replaced;
	case SYS_fcntl:
		if (t->a[1] == F_SETFL)
			return enter_on_socket(t);
		return (t->a[1] == F_DUPFD || t->a[1] == F_DUPFD_CLOEXEC) &&
		       enter_on_socket(t);
	case SYS_getsockopt:
		return t->a[1] == SOL_SOCKET && t->a[2] == SO_ERROR &&
		       enter_on_socket(t);
	default: /* dup, listen, shutdown, setsockopt */
		return enter_on_socket(t);
	}
}

static void exit_socket(struct st_ptask *t, long ret)
{
	int sv[2] = { (int)ret, -1 };
	enum st_call call = ST_CALL_socket;
	struct st_pfd f = { 0 }, f2 = { 0 };
	int dom = (int)t->a[0], type = (int)t->a[1];

	if (t->nr == SYS_socketpair) {
		call = ST_CALL_socketpair;
		if (ret < 0 || !st_pq_read(t->tid, t->a[3], sv, sizeof(sv)))
			sv[0] = sv[1] = -1;
	}
	settle(t->p, sv[0]);
	settle(t->p, sv[1]);
	if (sv[0] >= 0) {
		f = new_sock(t->p, dom, type);
		fd_put(t->p, sv[0], f);
	}
	if (sv[1] >= 0) {
		f2 = new_sock(t->p, dom, type);
		fd_put(t->p, sv[1], f2);
	}
	struct st_rec r = rec_of(t, call, f, ret, t->ts);
	r.fd = sv[0];
	r.u.sock.domain = dom;
	r.u.sock.socktype = type;
	r.u.sock.protocol = (int32_t)t->a[2];
	r.u.sock.fd2 = sv[1];
	r.u.sock.conn2 = f2.conn;
	put(t->p, &r);
}

static void exit_accept(struct st_ptask *t, long ret)
{
	enum st_call call =
		t->nr == SYS_accept ? ST_CALL_accept : ST_CALL_accept4;
	struct st_pfd nf = t->f;
	struct st_rec r = rec_of(t, call, t->f, ret, t->ts);

	settle(t->p, ret);
	if (ret >= 0) {
		/* the new socket is of the listener's family and type */
		nf.conn = st_conn_id(t->p->pid, ++t->p->nconn);
		fd_put(t->p, ret, nf);
		int copy = st_pq_copy(t->p, (int)ret);
		st_pq_peer(copy, &r.u.accept.peer);
		st_pq_local(copy, &r.u.accept.local);
		r.u.accept.conn2 = (uint32_t)nf.conn;
		if (ST_SOCK_FAM(nf.sock) == ST_SOCK_UNIX &&
		    ST_SOCK_TYPE(nf.sock) == ST_SOCK_STREAM && copy >= 0)
			r.u.accept.peer_pid = st_pq_peer_pid(copy);
		if (copy >= 0)
			close(copy);
	}
	if (t->qok) {
		r.u.accept.queue_len = t->qlen;
		r.u.accept.queue_max = t->qmax;
		r.flags |= ST_REC_QUEUE_BEFORE;
	}
	put(t->p, &r);
}

static void exit_listen(struct st_ptask *t, long ret)
{
	struct st_rec r = rec_of(t, ST_CALL_listen, t->f, ret, t->ts);
	int backlog = (int)t->a[1], max = -1;
	uint32_t qlen, qmax;

	file_of(t->p); /* its header holds net.core.somaxconn */
	if (t->p->file.h)
		max = t->p->file.h->somaxconn;
	r.u.listen.backlog = backlog;
	r.u.listen.somaxconn = max;
	r.u.listen.effective_backlog =
		max > 0 && (unsigned)backlog > (unsigned)max ? max : backlog;
	if (ret == 0) {
		int copy = st_pq_copy(t->p, (int)t->a[0]);
		st_pq_local(copy, &r.u.listen.local);
		if (st_pq_is_tcp(t->f.sock) && st_pq_queue(copy, &qlen, &qmax))
			r.u.listen.effective_backlog = (int32_t)qmax;
		if (copy >= 0)
			close(copy);
	}
	put(t->p, &r);
}

static void exit_connect(struct st_ptask *t, long ret)
{
	struct st_rec r = rec_of(t, ST_CALL_connect, t->f, ret, t->ts);

	r.u.connect.addr = t->addr;
	if (ret == 0 || ret == -EINPROGRESS || ret == -EHOSTUNREACH ||
	    ret == -ENETUNREACH) {
		int copy = st_pq_copy(t->p, (int)t->a[0]);
		st_pq_local(copy, &r.u.connect.local);
		if (copy >= 0)
			close(copy);
	}
	put(t->p, &r);
}

static void exit_close(struct st_ptask *t, long ret)
{
	for (int i = 0; i < t->nclosing; i++)
		if (t->closing[i].fd >= 0)
			close_one(t, &t->closing[i], ret);
	closer_done(t);
}

static void exit_dup(struct st_ptask *t, long ret)
{
	enum st_call call = t->nr == SYS_dup	? ST_CALL_dup
			    : t->nr == SYS_dup2 ? ST_CALL_dup2
			    : t->nr == SYS_dup3 ? ST_CALL_dup3
						: ST_CALL_fcntl;
	struct st_rec r = rec_of(t, call, t->f, ret, t->ts);

	settle(t->p, ret);
	if (ret >= 0) {
		if (t->f.state == ST_PFD_SOCK)
			fd_put(t->p, ret, t->f);
		else
			fd_clear(t->p, ret);
	}
	r.u.dup.cmd = t->nr == SYS_dup3	   ? (int32_t)t->a[2]
		      : t->nr == SYS_fcntl ? (int32_t)t->a[1]
					   : 0;
	r.u.dup.new_fd = (int32_t)ret;
	r.u.dup.replaced_conn = ret < 0 ? 0 : t->replaced;
	put(t->p, &r);
}

/* setsockopt, getsockopt(SO_ERROR), fcntl(F_SETFL): the values. */
static void exit_opt(struct st_ptask *t, long ret)
{
	int v[2] = { 0, 0 };
	struct st_rec r;

	if (t->nr == SYS_fcntl) {
		r = rec_of(t, ST_CALL_fcntl, t->f, ret, t->ts);
		r.u.dup.cmd = F_SETFL;
		r.u.dup.new_fd = -1;
		r.u.dup.arg = (int32_t)t->a[2];
	} else if (t->nr == SYS_getsockopt) {
		socklen_t len = 0;
		r = rec_of(t, ST_CALL_getsockopt, t->f, ret, t->ts);
		r.u.sockopt.level = (int32_t)t->a[1];
		r.u.sockopt.optname = (int32_t)t->a[2];
		if (ret == 0 &&
		    st_pq_read(t->tid, t->a[4], &len, sizeof(len)) &&
		    len >= sizeof(int) && st_pq_read(t->tid, t->a[3], v, 4))
			r.u.sockopt.value = v[0];
	} else {
		r = rec_of(t, ST_CALL_setsockopt, t->f, ret, t->ts);
		r.u.setopt.level = (int32_t)t->a[1];
		r.u.setopt.optname = (int32_t)t->a[2];
		size_t n = t->a[4] >= 8 ? 8 : t->a[4] >= 4 ? 4 : 0;
		if (ret == 0 && n && st_pq_read(t->tid, t->a[3], v, n)) {
			/* SO_LINGER's struct linger: on, then seconds */
			r.u.setopt.value = v[0];
			if (t->a[1] == SOL_SOCKET && t->a[2] == SO_LINGER)
				r.u.setopt.value2 = v[1];
		}
	}
	put(t->p, &r);
}

void st_pcall_exit(struct st_ptask *t, long ret)
{
	struct st_rec r;

	if (st_pdata_call(t->nr)) {
		r = rec_of(t, ST_CALL_read, t->f, ret, t->ts);
		st_pdata_record(&r, t->tid, t->nr, t->a, ret);
		return put(t->p, &r);
	}
	switch (t->nr) {
	case SYS_socket:
	case SYS_socketpair:
		return exit_socket(t, ret);
	case SYS_bind:
		r = rec_of(t, ST_CALL_bind, t->f, ret, t->ts);
		r.u.addr.addr = t->addr;
		return put(t->p, &r);
	case SYS_listen:
		return exit_listen(t, ret);
	case SYS_connect:
		return exit_connect(t, ret);
	case SYS_accept:
	case SYS_accept4:
		return exit_accept(t, ret);
	case SYS_shutdown:
		r = rec_of(t, ST_CALL_shutdown, t->f, ret, t->ts);
		r.u.how.how = (int32_t)t->a[1];
		return put(t->p, &r);
	case SYS_close:
	case SYS_close_range:
		return exit_close(t, ret);
	case SYS_fcntl:
		if (t->a[1] == F_SETFL)
			return exit_opt(t, ret);
		return exit_dup(t, ret);
	case SYS_dup:
	case SYS_dup2:
	case SYS_dup3:
		return exit_dup(t, ret);
	case SYS_setsockopt:
	case SYS_getsockopt:
		return exit_opt(t, ret);
	}
}

void st_pproc_scan(struct st_pproc *p)
{
	int *fds, n = st_pq_sockets(p->pid, &fds);
	struct st_pfd unseen = { .state = ST_PFD_UNSEEN };

	/* a new image: what it holds is found again, as the preload's
	 * exec'd image finds it */
	free(p->fds);
	p->fds = NULL;
	p->nfds = 0;
	for (int i = 0; i < n; i++)
		fd_put(p, fds[i], unseen);
	free(fds);
}

void st_pproc_attach(struct st_pproc *p, pid_t tid)
{
	struct st_ptask t = { .tid = tid, .p = p };

	st_pproc_scan(p);
	file_of(p);
	for (int fd = 0; fd < p->nfds; fd++)
		if (p->fds[fd].state == ST_PFD_UNSEEN)
			seen(&t, fd, ST_SEEN_ATTACH);
}

void st_pproc_fork(struct st_pproc *p, pid_t tid, pid_t child)
{
	struct st_ptask t = { .tid = tid, .p = p };
	struct st_pfd none = { 0 };

	if (!p->file_tried)
		return; /* nothing recorded: no socket the viewer knows */
	struct st_rec r = rec_of(&t, ST_CALL_fork, none, child, st_now_ns());
	r.fd = -1;
	put(p, &r);
}

void st_pproc_exit(struct st_pproc *p, pid_t tid)
{
	struct st_ptask t = { .tid = tid, .p = p };

	p->exit_done = true;
	for (int fd = 0; fd < p->nfds; fd++) {
		struct st_pfd f = p->fds[fd];
		if (f.state != ST_PFD_SOCK || !st_pq_is_tcp(f.sock))
			continue;
		struct st_p_close k;
		t.ts = st_now_ns();
		int copy = st_pq_copy(p, fd);
		ask_copy(&t, fd, f, copy, &k);
		if (copy >= 0)
			close(copy);
		struct st_rec r = rec_of(&t, ST_CALL_exit_close, f, 0, t.ts);
		r.fd = fd;
		r.u.close = k;
		put(p, &r);
	}
}

void st_pcall_abort(struct st_ptask *t)
{
	for (int i = 0; i < t->nclosing; i++)
		if (t->closing[i].copy >= 0)
			close(t->closing[i].copy);
	if (t->nclosing)
		closer_done(t);
}
