/* SPDX-License-Identifier: MIT */
/* A listener driven from stdin: connections queue until it accepts. */

/*
 *   queue ADDR PORT BACKLOG - listen(BACKLOG) on ADDR:PORT, print
 *                             "ready", then follow stdin's lines:
 *                             "accept N" accepts N connections (blocking)
 *                             and closes each, printing "accepted";
 *                             anything else (or EOF) closes the listener
 *                             and exits.
 * tests/it_queue.py holds accept's queue against ss, and the listener
 * that never accepts against the wire.
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

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char line[64];
	int one = 1, l, n;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: queue ADDR PORT BACKLOG\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, 4) ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(l, atoi(argv[3])))
		die("listen");
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) &&
	       sscanf(line, "accept %d", &n) == 1) {
		for (int i = 0; i < n; i++) {
			int fd = accept(l, NULL, NULL);
			if (fd < 0)
				die("accept");
			close(fd);
		}
		printf("accepted\n");
		fflush(stdout);
	}
	close(l);
	return 0;
}
