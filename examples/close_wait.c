/* SPDX-License-Identifier: MIT */
/* close_wait: a server that forgets to close sits in CLOSE_WAIT, and leaks. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static const char request[] = "QUIT\n";

static void client(int from_server, int to_server)
{
	struct sockaddr_in a = loopback(get(from_server));
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)to_server;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail("client connect: %s", strerror(errno));
	if (write(fd, request, sizeof(request) - 1) != sizeof(request) - 1)
		fail("client write: %s", strerror(errno));
	/* active close: FIN_WAIT_2 until the server's FIN, which is late */
	close(fd);
}

static void server(int to_client, int from_client)
{
	struct timespec forget = { 1, 200 * 1000 * 1000 };
	char buf[64];
	int lfd = listen_loopback(8);
	unsigned sport = port_of(lfd, false);

	(void)from_client;
	put(to_client, sport);
	int fd = accept_client(lfd, to_client);
	/* a one-shot server: the listener is closed properly */
	close(lfd);
	unsigned cport = port_of(fd, true);
	if (read_line(fd, buf, sizeof(buf)) != sizeof(request) - 1)
		fail("server: no request");
	if (read_line(fd, buf, sizeof(buf)) != 0)
		fail("server: expected EOF after the request");
	expect_state(sport, cport, TCP_CLOSE_WAIT, "server CLOSE_WAIT");
	/*
	 * The bug: EOF seen, but no close(fd).  The delay is the point: the
	 * socket stays in CLOSE_WAIT (and the client's in FIN_WAIT_2) for as
	 * long as the program forgets, here 1.2 s.
	 */
	nanosleep(&forget, NULL);
	expect_state(sport, cport, TCP_CLOSE_WAIT, "server still CLOSE_WAIT");
	expect_state(cport, sport, TCP_FIN_WAIT2, "client FIN_WAIT_2");
	reap_client();
	/* exit with fd still open: the kernel closes it, the trace cannot */
}

int main(void)
{
	printf("close_wait: the client sends a request and closes; the server "
	       "reads it and EOF\n"
	       "but never calls close(): its socket sits in CLOSE_WAIT for "
	       "1.2 s, and the\n"
	       "process exits with the fd still open.  Look for: server read "
	       "0 (EOF) and no\n"
	       "close after it.  Finding: close_wait (not also fd_leak).\n");
	run_pair(client, server);
	return 0;
}
