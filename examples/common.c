/* SPDX-License-Identifier: MIT */
/* Helpers shared by the examples: pipes, loopback sockets, state checks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

pid_t child;

void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	exit(1);
}

void put(int fd, unsigned v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		fail("pipe write: %s", strerror(errno));
}

unsigned get(int fd)
{
	unsigned v;
	ssize_t n = read(fd, &v, sizeof(v));

	if (n != sizeof(v))
		fail("pipe read: %s", n < 0 ? strerror(errno) : "peer exited");
	return v;
}

struct sockaddr_in loopback(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return a;
}

unsigned port_of(int fd, bool peer)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l)
		     : getsockname(fd, (struct sockaddr *)&a, &l);

	if (r)
		fail("getsockname: %s", strerror(errno));
	return ntohs(a.sin_port);
}

int listen_loopback(int backlog)
{
	struct sockaddr_in a = loopback(0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* port 0: the kernel picks a free one, the client learns it by pipe */
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, backlog))
		fail("server listen: %s", strerror(errno));
	return fd;
}

/* Only a program that binds the port in the microseconds until our
 * connect could spoil this. */
unsigned closed_port(void)
{
	struct sockaddr_in a = loopback(0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		fail("bind to port 0: %s", strerror(errno));
	unsigned port = port_of(fd, false);
	close(fd);
	return port;
}

int tcp_state(unsigned lport, unsigned rport)
{
	FILE *f = fopen("/proc/net/tcp", "re");
	char buf[256];
	int st = 0;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		unsigned la, lp, ra, rp, s;

		/* addresses are printed as the raw (network order) word */
		if (sscanf(buf, " %*u: %x:%x %x:%x %x", &la, &lp, &ra, &rp,
			   &s) == 5 &&
		    la == htonl(INADDR_LOOPBACK) &&
		    ra == htonl(INADDR_LOOPBACK) && lp == lport &&
		    rp == rport) {
			st = (int)s;
			break;
		}
	}
	fclose(f);
	return st;
}

void expect_state(unsigned lport, unsigned rport, int want, const char *what)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int st = 0;

	for (int i = 0; i < 100; i++) {
		st = tcp_state(lport, rport);
		if (st == want || st < 0)
			break;
		nanosleep(&tick, NULL);
	}
	if (st < 0)
		fprintf(stderr, "%s: no /proc/net/tcp, %s not checked\n",
			program_invocation_short_name, what);
	else if (st != want)
		fail("%s: state %d in /proc/net/tcp, expected %d", what, st,
		     want);
}

bool wait_for(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n = poll(&pfd, 1, ms);

	if (n < 0)
		fail("poll: %s", strerror(errno));
	return n == 1;
}

size_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size - 1 && !memchr(buf, '\n', n)) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EAGAIN && wait_for(fd, POLLIN, 1000))
			continue;
		if (r < 0)
			fail("read: %s", strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	return n;
}

/*
 * If the client died before it connected, its end of the pipe TO_CLIENT
 * is closed (POLLERR here) and a blocking accept would wait for ever.
 */
int accept_client(int lfd, int to_client)
{
	struct pollfd pfd[2] = { { .fd = lfd, .events = POLLIN },
				 { .fd = to_client, .events = 0 } };

	if (poll(pfd, 2, -1) < 0)
		fail("poll: %s", strerror(errno));
	if (!(pfd[0].revents & POLLIN))
		fail("the client exited before it connected");
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		fail("server accept: %s", strerror(errno));
	return fd;
}

void run_pair(void (*client)(int from_server, int to_server),
	      void (*server)(int to_client, int from_client))
{
	int c2s[2], s2c[2];

	alarm(10);
	fflush(stdout); /* or the child would print it again at exit */
	if (pipe(c2s) || pipe(s2c))
		fail("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		alarm(10); /* pending alarms are not inherited */
		close(c2s[0]);
		close(s2c[1]);
		client(s2c[0], c2s[1]);
		exit(0);
	}
	close(c2s[1]);
	close(s2c[0]);
	server(s2c[1], c2s[0]);
}

void reap_client(void)
{
	int status;
	pid_t pid = child;

	child = 0; /* fail() must not wait for it again */
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("the client failed");
}
