/* SPDX-License-Identifier: MIT */
/* What each system call the library adds per connection costs here. */

/*
 * syscalls: on one loopback TCP connection, the best of 7 rounds of
 * 200,000 calls of each call the library makes besides the program's own
 * (README, "System calls the library adds"), with getppid() as the cost
 * of any system call and clock_gettime() as that of a timestamp.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N 200000

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int lsn, srv;

static void ppid(void)
{
	syscall(SYS_getppid);
}
static void stamp(void)
{
	now_ns();
}

static void local(void)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	getsockname(srv, (struct sockaddr *)&ss, &l);
}

static void peer(void)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	getpeername(srv, (struct sockaddr *)&ss, &l);
}

static void info_conn(void)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	getsockopt(srv, IPPROTO_TCP, TCP_INFO, &ti, &l);
}

/* As the close wrappers ask since format 4: the kernel's whole struct
 * (248 bytes on 6.7+), not libc's shorter one, in the same one call. */
static void info_conn_full(void)
{
	unsigned char ti[256];
	socklen_t l = sizeof(ti);

	getsockopt(srv, IPPROTO_TCP, TCP_INFO, ti, &l);
}

static void info_listener(void)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	getsockopt(lsn, IPPROTO_TCP, TCP_INFO, &ti, &l);
}

static void unread(void)
{
	int n;

	ioctl(srv, FIONREAD, &n);
}

static void linger(void)
{
	struct linger lg;
	socklen_t l = sizeof(lg);

	getsockopt(srv, SOL_SOCKET, SO_LINGER, &lg, &l);
}

static void best(const char *what, void (*fn)(void))
{
	double b = 1e18;

	for (int r = 0; r < 7; r++) {
		unsigned long long t = now_ns();
		for (int i = 0; i < N; i++)
			fn();
		double d = (double)(now_ns() - t) / N;
		if (d < b)
			b = d;
	}
	printf("  %-48s %5.0f ns\n", what, b);
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t l = sizeof(sa);
	int c;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsn = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (lsn < 0 || c < 0 || bind(lsn, (struct sockaddr *)&sa, l) ||
	    listen(lsn, 8) || getsockname(lsn, (struct sockaddr *)&sa, &l) ||
	    connect(c, (struct sockaddr *)&sa, l) ||
	    (srv = accept(lsn, NULL, NULL)) < 0) {
		perror("syscalls");
		return 1;
	}
	printf("system call costs, best of 7 x %d:\n", N);
	best("getppid (any system call)", ppid);
	best("clock_gettime (a timestamp, vDSO)", stamp);
	best("getsockname (connect, accept)", local);
	best("getpeername (accept into the caller's buffer)", peer);
	best("getsockopt TCP_INFO, connection (libc's struct)", info_conn);
	best("getsockopt TCP_INFO, whole struct (each close)", info_conn_full);
	best("getsockopt TCP_INFO, listener (each accept)", info_listener);
	best("ioctl FIONREAD (close of a connected socket)", unread);
	best("getsockopt SO_LINGER (close of a connected socket)", linger);
	return 0;
}
