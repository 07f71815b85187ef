/* SPDX-License-Identifier: MIT */
/* refused: connect to a port nobody listens on fails with ECONNREFUSED. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Says what went wrong on stderr and exits 1. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/*
 * A port on 127.0.0.1 that nothing listens on: bind to port 0, see which
 * port the kernel picked, give it back.  Only a program that binds it in
 * the microseconds until our connect could spoil this.
 */
static unsigned closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &l))
		fail("bind to port 0: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	alarm(10); /* a test must never hang */
	printf("refused: connect() to a port with no listener: the peer's "
	       "kernel answers the\n"
	       "SYN with RST and connect fails at once with ECONNREFUSED.  "
	       "Look for: a bound\n"
	       "socket closed unused, then connect = -1 ECONNREFUSED and "
	       "close.\n"
	       "Finding: connect_failed.\n");
	a.sin_port = htons(closed_port());
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
