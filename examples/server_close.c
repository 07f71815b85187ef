/* SPDX-License-Identifier: MIT */
/* server_close: the server closes first, so TIME_WAIT sits on the server. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "GET /\n";
static const char reply[] = "here you are, bye\n";
static pid_t child; /* in the parent: the client, stopped if we fail */

/* Says what went wrong on stderr and exits 1 (after reaping the client). */
static void fail(const char *fmt, ...)
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

/* Pipe messages: one unsigned each.  Pipes are not sockets: not traced. */
static void put(int fd, unsigned v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		fail("pipe write: %s", strerror(errno));
}

static unsigned get(int fd)
{
	unsigned v;
	ssize_t n = read(fd, &v, sizeof(v));

	if (n != sizeof(v))
		fail("pipe read: %s", n < 0 ? strerror(errno) : "peer exited");
	return v;
}

/* The port of FD's local (or, with PEER, remote) address. */
static unsigned port_of(int fd, bool peer)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l)
		     : getsockname(fd, (struct sockaddr *)&a, &l);

	if (r)
		fail("getsockname: %s", strerror(errno));
	return ntohs(a.sin_port);
}

/*
 * The TCP state (TCP_* of <netinet/tcp.h>) of 127.0.0.1:LPORT ->
 * 127.0.0.1:RPORT as /proc/net/tcp lists it; 0 if not listed, -1 if the
 * file cannot be read.  Unlike getsockopt(TCP_INFO) it adds nothing to
 * the trace and sees sockets no fd refers to any more (TIME_WAIT).
 */
static int tcp_state(unsigned lport, unsigned rport)
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

/*
 * Waits up to 1 s for the socket to reach state WANT: the peer's last
 * segment may still be on its way through loopback when close() returns.
 */
static void expect_state(unsigned lport, unsigned rport, int want,
			 const char *what)
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

/* Reads up to and including a newline; returns the length, 0 at EOF. */
static size_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size - 1 && !memchr(buf, '\n', n)) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
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
 * accept(), once a connection is there.  If the client died before it
 * connected, its end of the pipe TO_CLIENT is closed (POLLERR here) and a
 * blocking accept would wait for ever.
 */
static int accept_client(int lfd, int to_client)
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

static void client(int from_server)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(get(from_server)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail("client connect: %s", strerror(errno));
	if (write(fd, request, sizeof(request) - 1) != sizeof(request) - 1)
		fail("client write: %s", strerror(errno));
	if (read_line(fd, buf, sizeof(buf)) != sizeof(reply) - 1 ||
	    strcmp(buf, reply))
		fail("client: not the reply the server sent");
	/* the server's FIN: this end is in CLOSE_WAIT until it closes */
	if (read_line(fd, buf, sizeof(buf)) != 0)
		fail("client: expected EOF after the reply");
	close(fd);
}

static void server(int to_client)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[64];
	int status;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	/* port 0: the kernel picks a free one, the client learns it by pipe */
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 8))
		fail("server listen: %s", strerror(errno));
	unsigned sport = port_of(lfd, false);
	put(to_client, sport);
	int fd = accept_client(lfd, to_client);
	unsigned cport = port_of(fd, true);
	if (read_line(fd, buf, sizeof(buf)) != sizeof(request) - 1)
		fail("server: no request");
	if (write(fd, reply, sizeof(reply) - 1) != sizeof(reply) - 1)
		fail("server write: %s", strerror(errno));
	/*
	 * The active close, as HTTP/1.0 servers do: the client has not sent
	 * its FIN (it waits for ours), so this close is from ESTABLISHED and
	 * the TIME_WAIT lands here, on the server's well-known port.
	 */
	close(fd);
	close(lfd);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		child = 0;
		fail("the client failed");
	}
	child = 0;
	expect_state(sport, cport, TCP_TIME_WAIT, "server TIME_WAIT");
	expect_state(cport, sport, 0, "client side gone");
}

int main(void)
{
	int p[2];

	alarm(10); /* a test must never hang */
	printf("server_close: the server replies and closes first (active "
	       "close on the server).\n"
	       "Look for: server close while ESTABLISHED -> TIME_WAIT on the "
	       "server; client\n"
	       "read -> read 0 (EOF) -> close (CLOSE_WAIT: passive close).  "
	       "Finding:\n"
	       "server_time_wait (TIME_WAITs pile up on a busy server).\n");
	fflush(stdout); /* or the child would print it again at exit */
	if (pipe(p))
		fail("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		alarm(10);
		close(p[1]);
		client(p[0]);
		exit(0);
	}
	close(p[0]);
	server(p[1]);
	return 0;
}
