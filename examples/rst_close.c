/* SPDX-License-Identifier: MIT */
/* rst_close: closing with unread bytes sends RST, not FIN: no TIME_WAIT. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static const char request[] = "GET /\n";

static void client(int from_server, int to_server)
{
	struct sockaddr_in a = loopback(get(from_server));
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)to_server;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail("client connect: %s", strerror(errno));
	if (write(fd, request, sizeof(request) - 1) != sizeof(request) - 1)
		fail("client write: %s", strerror(errno));
	get(from_server); /* the server has closed */
	/* the RST came instead of a reply: the read fails, no EOF */
	if (read(fd, buf, sizeof(buf)) != -1 || errno != ECONNRESET)
		fail("client: expected ECONNRESET, the server's RST");
	close(fd);
}

static void server(int to_client, int from_client)
{
	int lfd = listen_loopback(8);
	unsigned sport = port_of(lfd, false);

	(void)from_client;
	put(to_client, sport);
	int fd = accept_client(lfd, to_client);
	unsigned cport = port_of(fd, true);
	if (!wait_for(fd, POLLIN, 1000))
		fail("server: no request came");
	/*
	 * Closed without reading the request: the kernel answers bytes
	 * nobody will read with RST (RFC 2525), not FIN.  Both sockets are
	 * gone at once: no FIN_WAIT, CLOSE_WAIT or TIME_WAIT.
	 */
	close(fd);
	close(lfd);
	put(to_client, 1);
	reap_client();
	expect_state(sport, cport, 0, "server side gone (RST, no TIME_WAIT)");
	expect_state(cport, sport, 0, "client side gone");
}

int main(void)
{
	printf("rst_close: the server closes with the client's request "
	       "unread.\n"
	       "Look for: server close(5) unread 6 B -> CLOSED at once, no "
	       "TIME_WAIT on\n"
	       "either end; the client's read = -1 ECONNRESET.  Finding: "
	       "reset (by the\n"
	       "server, 6 unread bytes; the client saw ECONNRESET).\n");
	run_pair(client, server);
	return 0;
}
