/* SPDX-License-Identifier: MIT */
/* refused: connect to a port nobody listens on fails with ECONNREFUSED. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	alarm(10); /* a test must never hang */
	printf("refused: connect() to a port with no listener: the peer's "
	       "kernel answers the\n"
	       "SYN with RST and connect fails at once with ECONNREFUSED.  "
	       "Look for: a bound\n"
	       "socket closed unused, then connect = -1 ECONNREFUSED and "
	       "close.\n"
	       "Finding: connect_failed.\n");
	struct sockaddr_in a = loopback(closed_port());
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		fail("connect succeeded: something listens on port %u",
		     ntohs(a.sin_port));
	if (errno != ECONNREFUSED)
		fail("connect: %s, expected ECONNREFUSED", strerror(errno));
	close(fd);
	return 0;
}
