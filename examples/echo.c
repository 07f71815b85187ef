/* SPDX-License-Identifier: MIT */
/* echo: a normal exchange; the client closes first and gets TIME_WAIT. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static const char line[] = "hello, echo\n";

static void client(int from_server, int to_server)
{
	struct sockaddr_in a = loopback(get(from_server));
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)to_server;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail("client connect: %s", strerror(errno));
	if (write(fd, line, sizeof(line) - 1) != sizeof(line) - 1)
		fail("client write: %s", strerror(errno));
	if (read_line(fd, buf, sizeof(buf)) != sizeof(line) - 1 ||
	    strcmp(buf, line))
		fail("client: the echo differs from what was sent");
	/* the active close: this end will sit in TIME_WAIT */
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
	size_t n = read_line(fd, buf, sizeof(buf));
	if (write(fd, buf, n) != (ssize_t)n)
		fail("server write: %s", strerror(errno));
	/* the client's FIN: read returns 0, this end is in CLOSE_WAIT */
	if (read_line(fd, buf, sizeof(buf)) != 0)
		fail("server: expected EOF after the line");
	close(fd);
	close(lfd);
	reap_client();
	expect_state(cport, sport, TCP_TIME_WAIT, "client TIME_WAIT");
	expect_state(sport, cport, 0, "server side gone");
}

int main(void)
{
	printf("echo: the client connects, sends a line, reads it back and "
	       "closes first.\n"
	       "Look for: client connect -> write -> read -> close "
	       "(ESTABLISHED: active close,\n"
	       "TIME_WAIT on the client); server accept -> read -> write -> "
	       "read 0 (EOF) ->\n"
	       "close (CLOSE_WAIT: passive close).  Nothing is wrong here: "
	       "no findings.\n");
	run_pair(client, server);
	return 0;
}
