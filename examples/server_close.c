/* SPDX-License-Identifier: MIT */
/* server_close: the server closes first, so TIME_WAIT sits on the server. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static const char request[] = "GET /\n";
static const char reply[] = "here you are, bye\n";

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
	if (read_line(fd, buf, sizeof(buf)) != sizeof(reply) - 1 ||
	    strcmp(buf, reply))
		fail("client: not the reply the server sent");
	/* the server's FIN: this end is in CLOSE_WAIT until it closes */
	if (read_line(fd, buf, sizeof(buf)) != 0)
		fail("client: expected EOF after the reply");
	close(fd);
}

static void server(int to_client, int from_client)
{
	char buf[64];
	int lfd = listen_loopback(8);
	unsigned sport = port_of(lfd, false);

	(void)from_client;
	put(to_client, sport);
	int fd = accept_client(lfd, to_client);
	unsigned cport = port_of(fd, true);
	if (read_line(fd, buf, sizeof(buf)) != sizeof(request) - 1)
		fail("server: no request");
	if (write(fd, reply, sizeof(reply) - 1) != sizeof(reply) - 1)
		fail("server write: %s", strerror(errno));
	/*
	 * The active close, as HTTP/1.0 servers do: the client has not sent
	 * its FIN (it waits for ours), so this close is from ESTABLISHED and
	 * the TIME_WAIT lands here, on the server's well-known port.
	 */
	close(fd);
	close(lfd);
	reap_client();
	expect_state(sport, cport, TCP_TIME_WAIT, "server TIME_WAIT");
	expect_state(cport, sport, 0, "client side gone");
}

int main(void)
{
	printf("server_close: the server replies and closes first (active "
	       "close on the server).\n"
	       "Look for: server close while ESTABLISHED -> TIME_WAIT on the "
	       "server; client\n"
	       "read -> read 0 (EOF) -> close (CLOSE_WAIT: passive close).  "
	       "Finding:\n"
	       "server_time_wait (TIME_WAITs pile up on a busy server).\n");
	run_pair(client, server);
	return 0;
}
