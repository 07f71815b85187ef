/* SPDX-License-Identifier: MIT */
/* backlog: connects complete before accept until the accept queue is full. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define BACKLOG	      2
#define STALLS	      2	   /* stop opening connects after this many stall */
#define MAX_CONNS     16   /* give up if the queue never seems to fill */
#define STALL_MS      300  /* a connect not done by then has stalled */
#define RETRANSMIT_MS 1500 /* the first SYN retransmit comes after 1 s */

/*
 * The accept-queue length the kernel really uses for listen(fd, BACKLOG):
 * min(BACKLOG, net.core.somaxconn).  The trace's listen record shows the
 * same three numbers.
 */
static int effective_backlog(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	int max = 0;

	if (f) {
		if (fscanf(f, "%d", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max > 0 && max < BACKLOG ? max : BACKLOG;
}

/* Waits up to MS for FD's connect to finish; false if it has not. */
static bool connected(int fd, int ms)
{
	int err;
	socklen_t l = sizeof(err);

	if (!wait_for(fd, POLLOUT, ms))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l))
		fail("getsockopt(SO_ERROR): %s", strerror(errno));
	if (err)
		fail("client: connect failed: %s", strerror(err));
	return true;
}

/*
 * Opens non-blocking connects one after another while the server does not
 * accept.  Each finishes as soon as the kernel has put the connection in
 * the accept queue.  The kernel calls the queue full only when it holds
 * more than the backlog, so backlog + 1 fit; after that it drops the SYN
 * (no RST: the client is meant to retry) and the connect stalls.
 */
static void client(int from_server, int to_server)
{
	struct sockaddr_in a = loopback(get(from_server));
	int fds[MAX_CONNS];
	int n = 0, done = 0, stalled = 0, late = 0;

	while (stalled < STALLS && n < MAX_CONNS) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			fail("client socket: %s", strerror(errno));
		fds[n++] = fd;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
		    errno != EINPROGRESS)
			fail("client connect: %s", strerror(errno));
		if (!connected(fd, STALL_MS))
			stalled++;
		else if (stalled)
			fail("client: a connect finished after one stalled");
		else
			done++;
	}
	/* accept the queue, then the stalled SYNs are retransmitted */
	put(to_server, (unsigned)done);
	for (int i = done; i < n; i++)
		if (connected(fds[i], RETRANSMIT_MS))
			late++;
	put(to_server, (unsigned)late);
	get(from_server); /* all accepted: close, the client first */
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (done != effective_backlog() + 1)
		fail("client: %d connects finished before accept, expected "
		     "backlog + 1 = %d",
		     done, effective_backlog() + 1);
	if (late != stalled)
		fail("client: %d of %d stalled connects finished after the "
		     "SYN retransmit",
		     late, stalled);
}

/* Accepts N queued connections into FDS from *K on. */
static void accept_n(int lfd, int *fds, int *k, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			fail("server accept: %s", strerror(errno));
		fds[(*k)++] = fd;
	}
}

static void server(int to_client, int from_client)
{
	int fds[MAX_CONNS];
	int k = 0;
	char c;
	int lfd = listen_loopback(BACKLOG);

	put(to_client, port_of(lfd, false));
	/* busy elsewhere: no accept() until the client has seen the stalls */
	accept_n(lfd, fds, &k, get(from_client));
	accept_n(lfd, fds, &k, get(from_client));
	put(to_client, 1);
	/* the client closes first: read EOF, then close (CLOSE_WAIT) */
	for (int i = 0; i < k; i++) {
		if (read(fds[i], &c, 1) != 0)
			fail("server: expected EOF");
		close(fds[i]);
	}
	close(lfd);
	reap_client();
}

int main(void)
{
	printf("backlog: listen(fd, 2), then no accept() for 0.6 s.  Connects "
	       "finish before\n"
	       "accept: %d do (min(2, net.core.somaxconn) + 1), then SYNs are "
	       "dropped and 2\n"
	       "connects stall until a SYN retransmit 1 s later.  Look for: "
	       "accept-queue waits,\n"
	       "accept's queue_len = queue_max.  Finding: accept_queue_full.\n",
	       effective_backlog() + 1);
	run_pair(client, server);
	return 0;
}
