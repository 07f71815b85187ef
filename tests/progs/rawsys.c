/* SPDX-License-Identifier: MIT */
/* Socket calls made through syscall(3), as libuv makes them, and others. */

/*
 * rawsys: a loopback TCP connection and a socketpair made, used and
 * closed entirely through syscall(SYS_...), plus system calls that are
 * not about sockets (getpid, a pipe's read, a bad number, bad fds).
 * Prints every result and errno, and errno after successful calls (which
 * syscall() leaves alone), so that a run under the preload can be held
 * line by line against a run without it.  rawsys unseen: a socket
 * closed by a system call no wrapper sees (the instruction itself), and
 * a new socket that gets its fd number back.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Prints one result: what, the value, and errno (kept at 4242 before
 * the call, so a success shows errno untouched). */
static long show(const char *what, long r)
{
	printf("%-24s %ld errno %d\n", what, r, errno);
	errno = 4242;
	return r;
}

#define SC(what, ...) show(what, syscall(__VA_ARGS__))

static void not_sockets(void)
{
	int p[2];
	char b = 'x';

	printf("getpid same: %d\n", (int)syscall(SYS_getpid) == getpid());
	SC("bad number", 100000, 1, 2, 3, 4, 5, 6);
	SC("negative number", -1);
	SC("close -1", SYS_close, -1);
	SC("close 999", SYS_close, 999);
	SC("read bad fd", SYS_read, 998, &b, 1);
	if (pipe(p))
		return;
	SC("pipe write", SYS_write, p[1], &b, 1);
	SC("pipe read", SYS_read, p[0], &b, 1);
	SC("pipe close", SYS_close, p[0]);
	SC("pipe close", SYS_close, p[1]);
	SC("socket bad family", SYS_socket, 12345, SOCK_STREAM, 0);
	SC("connect EFAULT", SYS_connect, 0, (void *)8, 16);
}

/* Client and server ends of one loopback connection, through syscall(). */
static int tcp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_in peer;
	socklen_t len = sizeof(sa), plen = sizeof(peer);
	char buf[64] = "hello";
	struct iovec v = { buf, 5 };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	long l = SC("socket listener", SYS_socket, AF_INET,
		    SOCK_STREAM | SOCK_NONBLOCK, 0);
	SC("bind", SYS_bind, l, &sa, sizeof(sa));
	SC("listen", SYS_listen, l, 4);
	if (getsockname((int)l, (struct sockaddr *)&sa, &len))
		return 1;
	long c = SC("socket client", SYS_socket, AF_INET,
		    SOCK_STREAM | SOCK_CLOEXEC, 0);
	SC("connect", SYS_connect, c, &sa, sizeof(sa));
	long s = SC("accept4", SYS_accept4, l, &peer, &plen, SOCK_CLOEXEC);
	SC("accept4 no buffer (EAGAIN)", SYS_accept4, l, 0, 0, SOCK_NONBLOCK);
	SC("write", SYS_write, c, buf, 5);
	SC("read", SYS_read, s, buf, sizeof(buf));
	SC("writev", SYS_writev, s, &v, 1);
	SC("readv", SYS_readv, c, &v, 1);
	SC("sendto", SYS_sendto, c, buf, 3, 0, 0, 0);
	SC("recvfrom", SYS_recvfrom, s, buf, sizeof(buf), 0, 0, 0);
	long d = SC("dup", SYS_dup, s);
	long f = SC("fcntl F_DUPFD", SYS_fcntl, s, F_DUPFD_CLOEXEC, 20);
	SC("fcntl F_GETFD", SYS_fcntl, f, F_GETFD);
	int so = -1;
	socklen_t sol = sizeof(so);
	SC("getsockopt SO_ERROR", SYS_getsockopt, c, SOL_SOCKET, SO_ERROR, &so,
	   &sol);
	printf("so_error %d\n", so);
	int one = 1;
	SC("setsockopt TCP_NODELAY", SYS_setsockopt, c, IPPROTO_TCP,
	   TCP_NODELAY, &one, sizeof(one));
	SC("setsockopt EFAULT", SYS_setsockopt, c, SOL_SOCKET, SO_KEEPALIVE,
	   (void *)8, sizeof(one));
	SC("shutdown", SYS_shutdown, c, SHUT_WR);
	SC("read EOF", SYS_read, s, buf, sizeof(buf));
	SC("close dup", SYS_close, d);
	SC("close fcntl copy", SYS_close, f);
	SC("close server", SYS_close, s);
	SC("close client", SYS_close, c);
	SC("close twice", SYS_close, c);
	SC("close listener", SYS_close, l);
	return 0;
}

static void pair(void)
{
	int sv[2] = { -1, -1 };
	char b = 'y';

	SC("socketpair", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
	printf("pair fds %d %d\n", sv[0], sv[1]);
	SC("pair write", SYS_write, sv[0], &b, 1);
	SC("pair read", SYS_read, sv[1], &b, 1);
	SC("pair close", SYS_close, sv[0]);
	SC("pair close_range", SYS_close_range, sv[1], sv[1], 0);
}

/* close(2) as the instruction: no library function is called */
static long invisible_close(long fd)
{
#if defined(__x86_64__)
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"((long)SYS_close), "D"(fd)
			 : "rcx", "r11", "memory");
	return r;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_close;
	register long x0 __asm__("x0") = fd;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8) : "memory");
	return x0;
#else
	return close((int)fd);
#endif
}

static int unseen(void)
{
	int a = socket(AF_INET, SOCK_STREAM, 0);

	show("invisible close", invisible_close(a));
	int b = socket(AF_INET, SOCK_STREAM, 0);
	printf("same fd again: %d\n", a == b);
	return close(b);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "unseen"))
		return unseen();
	errno = 4242;
	not_sockets();
	if (tcp())
		return 1;
	pair();
	return 0;
}
