/* SPDX-License-Identifier: MIT */
/* A bulk transfer and a listener that never accepts, for TCP_INFO checks. */

/*
 *   bulk recv PORT [RCVBUF US]
 *                          - accepts one connection on PORT, reads to EOF,
 *                            prints "received N", closes; with RCVBUF
 *                            and US, a slow reader: SO_RCVBUF RCVBUF on
 *                            the listener, 4 kB reads US us apart;
 *   bulk send ADDR PORT N  - sends N bytes to ADDR:PORT, shuts down
 *                            writing and waits for the peer's EOF (so all
 *                            of it was acked) before it closes;
 *   bulk queue PORT N      - listens on 127.0.0.1:PORT (backlog 16),
 *                            connects N clients it never accepts, prints
 *                            "ready", closes the listener after a line
 *                            on stdin.
 * tests/it_tcpinfo.py holds the trace's TCP_INFO against tcpdump and ss.
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

static int listen_on(int fd, const char *ip, int port, int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int one = 1;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&sa, sizeof(sa)) || listen(fd, backlog))
		die("listen");
	return fd;
}

static int listener(const char *ip, int port, int backlog)
{
	return listen_on(socket(AF_INET, SOCK_STREAM, 0), ip, port, backlog);
}

static int connect_to(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (connect(fd, (void *)&sa, sizeof(sa)))
		die("connect");
	return fd;
}

static int recv_all(int port, int rcvbuf, int us)
{
	static char buf[65536];
	long long n = 0;
	ssize_t r;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	/* set before listen: the accepted socket inherits it, and the
	 * window scale is chosen at the handshake */
	if (rcvbuf)
		setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	l = listen_on(l, "0.0.0.0", port, 1);
	printf("ready\n");
	fflush(stdout);
	int s = accept(l, NULL, NULL);
	while ((r = read(s, buf, us ? 4096 : sizeof(buf))) > 0) {
		n += r;
		if (us)
			usleep(us);
	}
	printf("received %lld\n", n);
	close(s);
	close(l);
	return 0;
}

static int send_all(const char *ip, int port, long long n)
{
	static char buf[65536];
	int s = connect_to(ip, port);

	for (long long left = n; left > 0;) {
		size_t k = left < (long long)sizeof(buf) ? (size_t)left
							 : sizeof(buf);
		ssize_t w = write(s, buf, k);
		if (w <= 0)
			die("write");
		left -= w;
	}
	shutdown(s, SHUT_WR);
	if (read(s, buf, sizeof(buf)) != 0)
		die("read EOF");
	printf("sent %lld\n", n);
	close(s);
	return 0;
}

static int queue(int port, int n)
{
	char line[16];
	int l = listener("127.0.0.1", port, 16), c[64];

	for (int i = 0; i < n && i < 64; i++)
		c[i] = connect_to("127.0.0.1", port);
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		die("stdin");
	close(l);
	for (int i = 0; i < n && i < 64; i++)
		close(c[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return recv_all(atoi(argv[2]), 0, 0);
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return recv_all(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_all(argv[2], atoi(argv[3]), atoll(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "queue"))
		return queue(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: bulk recv PORT [RCVBUF US] | send ADDR PORT "
			"BYTES | queue PORT N\n");
	return 2;
}
