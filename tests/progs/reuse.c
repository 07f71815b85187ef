/* SPDX-License-Identifier: MIT */
/* One 4-tuple used twice, while its first connection is in TIME_WAIT. */

/*
 *   reuse serve PORT N        - a listener on 127.0.0.1:PORT: N times it
 *                               accepts, reads the request, replies,
 *                               reads to EOF and closes (the passive
 *                               closer); prints "ready" once listening;
 *   reuse client PORT CPORT N - N connections from 127.0.0.1:CPORT
 *                               (SO_REUSEADDR): request, reply, close
 *                               first (TIME_WAIT); 1.1 s between them,
 *                               as loopback reuses a client's TIME_WAIT
 *                               tuple after 1 s (tcp_tw_reuse);
 *   reuse both PORT CPORT     - both ends in one process, twice from
 *                               CPORT: the server closes first (its end
 *                               in TIME_WAIT) and the second SYN takes
 *                               that 4-tuple over at once.
 * tests/it_reuse.py holds the timelines against tcpdump and ss.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in lo(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)atoi(port));
	return sa;
}

/* A socket bound to SA with SO_REUSEADDR. */
static int bound(struct sockaddr_in sa)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	return fd;
}

static int dial(struct sockaddr_in to, struct sockaddr_in from)
{
	int fd = bound(from);

	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) ||
	    write(fd, "hello", 5) != 5)
		die("connect");
	return fd;
}

/* Reads the request, replies, and with DRAIN reads to EOF first. */
static void answer(int fd, int drain)
{
	char buf[64];

	if (read(fd, buf, sizeof(buf)) != 5 || write(fd, "ok", 2) != 2)
		die("answer");
	while (drain && read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static int listener(struct sockaddr_in sa)
{
	int l = bound(sa);

	if (listen(l, 8))
		die("listen");
	return l;
}

int main(int argc, char **argv)
{
	char buf[64];

	if (argc >= 4 && !strcmp(argv[1], "serve")) {
		int l = listener(lo(argv[2]));
		printf("ready\n");
		fflush(stdout);
		for (int i = 0; i < atoi(argv[3]); i++)
			answer(accept(l, NULL, NULL), 1);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "client")) {
		for (int i = 0; i < atoi(argv[4]); i++) {
			if (i)
				usleep(1100000);
			int c = dial(lo(argv[2]), lo(argv[3]));
			if (read(c, buf, sizeof(buf)) != 2)
				die("reply");
			close(c);
		}
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "both")) {
		int l = listener(lo(argv[2]));
		for (int i = 0; i < 2; i++) {
			int c = dial(lo(argv[2]), lo(argv[3]));
			answer(accept(l, NULL, NULL), 0);
			while (read(c, buf, sizeof(buf)) > 0)
				;
			close(c);
			usleep(50000);
		}
		return 0;
	}
	return 2;
}
