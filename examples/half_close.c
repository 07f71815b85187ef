/* SPDX-License-Identifier: MIT */
/* half_close: shutdown(SHUT_WR) ends a request; the client is the closer. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static const char request[] = "GET /\n";
static const char reply[] = "here you are\n";

static void client(int from_server, int to_server)
{
	struct sockaddr_in a = loopback(get(from_server));
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail("client connect: %s", strerror(errno));
	unsigned cport = port_of(fd, false), sport = port_of(fd, true);
	if (write(fd, request, sizeof(request) - 1) != sizeof(request) - 1)
		fail("client write: %s", strerror(errno));
	/* our FIN says "that was the whole request"; we can still read */
	if (shutdown(fd, SHUT_WR))
		fail("client shutdown: %s", strerror(errno));
	if (read_line(fd, buf, sizeof(buf)) != sizeof(reply) - 1 ||
	    read_line(fd, buf, sizeof(buf)) != 0)
		fail("client: expected the reply, then EOF");
	/* the server's FIN is in: TIME_WAIT already, with the fd open */
	expect_state(cport, sport, TCP_TIME_WAIT, "client TIME_WAIT");
	put(to_server, cport);
	close(fd);
}

static void server(int to_client, int from_client)
{
	char buf[64];
	int lfd = listen_loopback(8);
	unsigned sport = port_of(lfd, false);

	put(to_client, sport);
	int fd = accept_client(lfd, to_client);
	if (read_line(fd, buf, sizeof(buf)) != sizeof(request) - 1 ||
	    read_line(fd, buf, sizeof(buf)) != 0)
		fail("server: expected the request, then EOF");
	/* CLOSE_WAIT since the EOF: the reply, then our FIN */
	if (write(fd, reply, sizeof(reply) - 1) != sizeof(reply) - 1)
		fail("server write: %s", strerror(errno));
	close(fd);
	close(lfd);
	unsigned cport = get(from_client);
	reap_client();
	expect_state(cport, sport, TCP_TIME_WAIT, "client still TIME_WAIT");
	expect_state(sport, cport, 0, "server side gone");
}

int main(void)
{
	printf("half_close: the client sends its request and shuts down "
	       "writing.\n"
	       "Look for: client shutdown SHUT_WR -> FIN_WAIT (server -> "
	       "CLOSE_WAIT); the\n"
	       "server reads EOF, replies and closes (client -> TIME_WAIT, "
	       "before its own\n"
	       "close, which does not end it).  Findings: none.\n");
	run_pair(client, server);
	return 0;
}
