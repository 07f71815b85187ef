/* SPDX-License-Identifier: MIT */
/* One request over a slow path: the handshake, the queue and the FINs. */

/*
 *   latency serve ADDR PORT - listen on ADDR:PORT, print "ready", accept
 *                             one connection 300 ms after listening
 *                             (it waits in the accept queue), read the
 *                             request, reply, read to EOF (the client
 *                             closes first), then close 100 ms later;
 *   latency client ADDR PORT - connect, send a request, read the reply,
 *                             close.
 * tests/it_latency.py runs the two in namespaces joined by a delay line
 * and holds the timelines against tcpdump on both sides.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&t, NULL);
}

static void serve(struct sockaddr_in sa)
{
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
	char buf[64];

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, 4) ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 8))
		die("listen");
	printf("ready\n");
	fflush(stdout);
	sleep_ms(300);
	int fd = accept(l, NULL, NULL);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 5 ||
	    write(fd, "ok", 2) != 2)
		die("serve");
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	sleep_ms(100);
	close(fd);
	close(l);
}

static void client(struct sockaddr_in sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[64];

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, "hello", 5) != 5 || read(fd, buf, sizeof(buf)) != 2)
		die("client");
	close(fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	if (argc != 4 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: latency serve|client ADDR PORT\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[3]));
	if (!strcmp(argv[1], "serve"))
		serve(sa);
	else
		client(sa);
	return 0;
}
