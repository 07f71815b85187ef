/* SPDX-License-Identifier: MIT */
/* TCP client and server, built static too: what the ptrace mode traces. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * pingpong N [EXIT]: a server child (forked) accepts N connections on
 * 127.0.0.1 and a client (the parent) makes them one after another;
 * each client writes "ping N" and shuts down its sending side, the
 * server answers the bytes it read and closes first.  Each side prints
 * its own view (ports, bytes); the parent exits with EXIT (default 0).
 * pingpong wait N: the same, the client then waits for stdin to close
 * (a test kills the tracer meanwhile).
 */
static int port_of(int fd, int peer)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin_port);
}

static void serve(int lfd, int n)
{
	char buf[256];

	for (int i = 0; i < n; i++) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0) {
			perror("accept");
			exit(1);
		}
		ssize_t got = 0, r;
		while ((r = read(c, buf, sizeof(buf))) > 0)
			got += r;
		int len = snprintf(buf, sizeof(buf), "got %zd", got);
		if (write(c, buf, (size_t)len) != len)
			perror("write");
		printf("server %d<-%d read %zd wrote %d\n", port_of(c, 0),
		       port_of(c, 1), got, len);
		fflush(stdout);
		close(c);
	}
	close(lfd);
}

static void client(int port, int i)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	char msg[32], buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("connect");
		exit(1);
	}
	int local = port_of(fd, 0), peer = port_of(fd, 1);
	int len = snprintf(msg, sizeof(msg), "ping %d", i);
	if (write(fd, msg, (size_t)len) != len)
		perror("write");
	shutdown(fd, SHUT_WR);
	ssize_t got = 0, r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		got += r;
	printf("client %d->%d wrote %d read %zd\n", local, peer, len, got);
	fflush(stdout);
	close(fd);
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");
	int n = argc > 1 + wait ? atoi(argv[1 + wait]) : 3;
	int code = argc > 2 + wait ? atoi(argv[2 + wait]) : 0;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 16) || getsockname(lfd, (struct sockaddr *)&a, &l)) {
		perror("listen");
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		serve(lfd, n);
		return 0;
	}
	close(lfd);
	for (int i = 0; i < n; i++)
		client(ntohs(a.sin_port), i);
	int st;
	waitpid(pid, &st, 0);
	if (wait)
		while (getchar() != EOF)
			;
	return code;
}
