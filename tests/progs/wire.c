/* SPDX-License-Identifier: MIT */
/* Connection endings on a given loopback port, for checks on the wire. */

/*
 * wire SCENARIO PORT: a listener on 127.0.0.1:PORT, one client, then
 *   fin     - the client closes after reading the reply: FINs only;
 *   unread  - the server closes with the client's bytes unread: RST;
 *   linger0 - the client sets SO_LINGER {1,0} and closes: RST;
 *   half    - the client shuts down writing, reads the reply to EOF,
 *             then closes; the server reads to EOF, replies, closes;
 *   simul   - both ends close at once, from two threads;
 *   abandon - a second, non-blocking client whose SYN the full accept
 *             queue (backlog 0) drops; closed after a 1.5 s poll.
 * tests/it_truth.py captures the port with tcpdump and holds the
 * timeline's claims against the packets.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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

/* half: FINs in order client, server; the client ends in TIME_WAIT. */
static int half(int c, int s)
{
	char buf[64];

	if (shutdown(c, SHUT_WR) || read(s, buf, sizeof(buf)) != 5 ||
	    read(s, buf, sizeof(buf)) != 0 || write(s, "ok", 2) != 2)
		die("half server");
	usleep(50000);
	close(s);
	if (read(c, buf, sizeof(buf)) != 2 || read(c, buf, sizeof(buf)) != 0)
		die("half client");
	usleep(50000);
	close(c);
	return 0;
}

static pthread_barrier_t both;

static void *close_at_once(void *fd)
{
	pthread_barrier_wait(&both);
	close(*(int *)fd);
	return NULL;
}

/* simul: both closes start together; on loopback one FIN usually lands
 * before the other close, so the test holds the wire and the view to
 * each other either way. */
static int simul(int c, int s)
{
	char buf[64];
	pthread_t t;

	if (read(s, buf, sizeof(buf)) != 5)
		die("simul read");
	pthread_barrier_init(&both, NULL, 2);
	pthread_create(&t, NULL, close_at_once, &s);
	close_at_once(&c);
	pthread_join(t, NULL);
	return 0;
}

/* abandon: the accept queue (backlog 0) holds C's connection: a second
 * client's SYN is dropped; it polls 1.5 s, then gives up and closes. */
static int abandon(const struct sockaddr_in *sa)
{
	struct pollfd p = { .events = POLLOUT };

	p.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (p.fd < 0 ||
	    !connect(p.fd, (const struct sockaddr *)sa, sizeof(*sa)))
		die("abandon connect");
	if (poll(&p, 1, 1500) != 0)
		return 1; /* it was answered after all */
	close(p.fd);
	return 0;
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
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(l, strcmp(argv[1], "abandon") ? 8 : 0))
		die("listen");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	usleep(10000);
	if (!strcmp(argv[1], "abandon") && abandon(&sa))
		return 1;
	int s = accept(l, NULL, NULL);
	if (s < 0 || write(c, "hello", 5) != 5)
		die("write");
	usleep(50000);
	if (!strcmp(argv[1], "half")) {
		half(c, s);
	} else if (!strcmp(argv[1], "simul")) {
		simul(c, s);
	} else if (!strcmp(argv[1], "unread")) {
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
