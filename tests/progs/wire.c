/* SPDX-License-Identifier: MIT */
/* Connection endings on a given loopback port, for checks on the wire. */

/*
 * wire SCENARIO PORT: a listener on 127.0.0.1:PORT, one client, then
 *   fin     - the client closes after reading the reply: FINs only;
 *   unread  - the server closes with the client's bytes unread: RST;
 *   linger0 - the client sets SO_LINGER {1,0} and closes: RST.
 * tests/it_truth.py captures the port with tcpdump and holds the
 * timeline's claims against the packets.
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
	struct linger lg = { 1, 0 };
	char buf[64];
	int one = 1;

	if (argc < 3)
		return 2;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, 4) ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 8))
		die("listen");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	int s = accept(l, NULL, NULL);
	if (s < 0 || write(c, "hello", 5) != 5)
		die("write");
	usleep(50000);
	if (!strcmp(argv[1], "unread")) {
		close(s); /* the 5 bytes are still in its receive queue */
		usleep(50000);
		if (read(c, buf, sizeof(buf)) >= 0)
			return 1; /* ECONNRESET expected */
		close(c);
	} else if (!strcmp(argv[1], "linger0")) {
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c);
		usleep(50000);
		read(s, buf, sizeof(buf)); /* the 5 bytes, then ECONNRESET */
		read(s, buf, sizeof(buf));
		close(s);
	} else {
		if (read(s, buf, sizeof(buf)) != 5 || write(s, "ok", 2) != 2 ||
		    read(c, buf, sizeof(buf)) != 2)
			die("echo");
		close(c);
		if (read(s, buf, sizeof(buf)) != 0)
			return 1;
		close(s);
	}
	close(l);
	return 0;
}
