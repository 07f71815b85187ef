/* SPDX-License-Identifier: MIT */
/* Clients of a full accept queue: some connect, some never do. */

/*
 *   overflow ADDR PORT N1 N2 MS - N1 non-blocking connects to ADDR:PORT
 *                                 at once; each that completes within
 *                                 400 ms sends a 5-byte request; then N2
 *                                 more connects at once; then, MS ms
 *                                 later, every socket is closed.  Prints
 *                                 "connected" or "pending" per socket.
 * Against a listener with backlog 1 that never accepts
 * (tests/progs/queue), across a delay line, the first wave's final ACKs
 * overflow the queue and the second wave's SYNs do:
 * tests/it_latency.py holds the finding against the wire.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX 64

static int fds[MAX];
static int done[MAX];

static void dial(struct sockaddr_in *sa, int from, int to)
{
	for (int i = from; i < to; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0 ||
		    (connect(fds[i], (struct sockaddr *)sa, sizeof(*sa)) &&
		     errno != EINPROGRESS)) {
			perror("connect");
			exit(1);
		}
	}
}

/* Waits up to MS for the connects FROM..TO; each that completes sends
 * its request. */
static void complete(int from, int to, int ms)
{
	struct pollfd p[MAX];

	for (int i = from; i < to; i++)
		p[i - from] =
			(struct pollfd){ .fd = fds[i], .events = POLLOUT };
	for (int left = ms; left > 0; left -= 10) {
		if (poll(p, (nfds_t)(to - from), 10) < 0)
			break;
		for (int i = from; i < to; i++) {
			int err = 1;
			socklen_t l = sizeof(err);
			if (done[i] || !(p[i - from].revents & POLLOUT))
				continue;
			p[i - from].events = 0;
			if (getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err,
				       &l) ||
			    err)
				continue;
			done[i] = 1;
			if (write(fds[i], "hello", 5) != 5)
				perror("write");
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	if (argc != 6 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: overflow ADDR PORT N1 N2 MS\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	int n1 = atoi(argv[3]), n = n1 + atoi(argv[4]), ms = atoi(argv[5]);
	if (n1 < 0 || n > MAX || n < n1)
		return 2;
	dial(&sa, 0, n1);
	complete(0, n1, 400);
	dial(&sa, n1, n);
	complete(n1, n, ms);
	for (int i = 0; i < n; i++) {
		printf("%s\n", done[i] ? "connected" : "pending");
		close(fds[i]);
	}
	return 0;
}
