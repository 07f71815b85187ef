/* SPDX-License-Identifier: MIT */
/* sendmmsg and recvmmsg on UDP and TCP, through libc and syscall(3). */

/*
 * mmsg: a connected UDP pair and a loopback TCP connection moved through
 * sendmmsg and recvmmsg, their error paths (EBADF, EFAULT, ENOTSOCK on a
 * pipe, EDESTADDRREQ, a receive timeout, a partial send), and the same
 * calls made through syscall(SYS_...).  Prints every result and errno
 * (kept at a sentinel before each call), and after each call every entry
 * of the mmsghdr array as the program sees it (msg_len, msg_flags,
 * msg_namelen), so that a run under the preload can be compared line by
 * line with a run without it.  Nothing printed depends on addresses or
 * timing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define SENTINEL 4242
#define NMSG	 4

/* An address no mapping covers: the kernel answers EFAULT. */
static void *volatile bad_address = (void *)16;

static void show(const char *what, long ret)
{
	int e = errno;
	const char *n = e == SENTINEL ? "-" : strerrorname_np(e);

	printf("%-44s = %ld errno %s\n", what, ret, n ? n : "?");
	fflush(stdout);
}

/* T(expr): run expr with errno at the sentinel, print result and errno. */
#define T(expr)                         \
	({                              \
		errno = SENTINEL;       \
		long r_ = (long)(expr); \
		show(#expr, r_);        \
		r_;                     \
	})

static char bufs[NMSG][64];
static struct iovec iov[NMSG];
static struct mmsghdr v[NMSG];
static struct sockaddr_in from[NMSG];

/* Fills v for sending the strings MSGS (N of them), or, MSGS NULL, for
 * receiving into bufs; every msg_len starts at 777 to show which the
 * kernel wrote. */
static struct mmsghdr *vec(const char *const *msgs, int n)
{
	memset(v, 0, sizeof(v));
	memset(from, 0, sizeof(from));
	for (int i = 0; i < NMSG; i++) {
		iov[i].iov_base = msgs && i < n ? (void *)msgs[i] : bufs[i];
		iov[i].iov_len = msgs && i < n ? strlen(msgs[i]) : 64;
		v[i].msg_hdr.msg_iov = &iov[i];
		v[i].msg_hdr.msg_iovlen = 1;
		v[i].msg_len = 777;
		if (!msgs) {
			v[i].msg_hdr.msg_name = &from[i];
			v[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
	}
	return v;
}

/* What the kernel left in v: every entry, written or not. */
static void entries(void)
{
	for (int i = 0; i < NMSG; i++)
		printf("  [%d] len %u flags %#x namelen %u data %.*s\n", i,
		       v[i].msg_len, v[i].msg_hdr.msg_flags,
		       v[i].msg_hdr.msg_namelen,
		       v[i].msg_len <= 64 ? (int)v[i].msg_len : 0, bufs[i]);
}

static void loopback(struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* Two UDP sockets on loopback connected to each other. */
static void udp_pair(int *a, int *b)
{
	struct sockaddr_in sa, sb;
	socklen_t l = sizeof(sa);

	loopback(&sa);
	loopback(&sb);
	*a = socket(AF_INET, SOCK_DGRAM, 0);
	*b = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(*a, (struct sockaddr *)&sa, l) ||
	    bind(*b, (struct sockaddr *)&sb, l) ||
	    getsockname(*a, (struct sockaddr *)&sa, &l) ||
	    getsockname(*b, (struct sockaddr *)&sb, &l) ||
	    connect(*a, (struct sockaddr *)&sb, l) ||
	    connect(*b, (struct sockaddr *)&sa, l)) {
		perror("udp pair");
		exit(3);
	}
}

static const char *const three[] = { "one", "three", "seventy" };

static void udp(void)
{
	int a, b;
	struct timeval tv = { 0, 20000 };

	udp_pair(&a, &b);
	T(sendmmsg(a, vec(three, 3), 3, 0));
	entries();
	T(recvmmsg(b, vec(NULL, 0), NMSG, MSG_DONTWAIT, NULL));
	entries();
	/* through syscall(3), as libuv-style code makes it */
	T(syscall(SYS_sendmmsg, b, vec(three, 2), 2, 0));
	entries();
	T(syscall(SYS_recvmmsg, a, vec(NULL, 0), NMSG, MSG_DONTWAIT, NULL));
	entries();
	/* nothing to send, nothing asked */
	T(sendmmsg(a, vec(three, 3), 0, 0));
	T(recvmmsg(b, vec(NULL, 0), 0, 0, NULL));
	/* a receive timeout (SO_RCVTIMEO) on an empty socket */
	T(setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	T(recvmmsg(b, vec(NULL, 0), NMSG, 0, NULL));
	entries();
	/* a partial send: the second message's buffer is not mapped */
	vec(three, 3);
	iov[1].iov_base = bad_address;
	T(sendmmsg(a, v, 3, 0));
	entries();
	T(recvmmsg(b, vec(NULL, 0), NMSG, MSG_DONTWAIT, NULL));
	entries();
	/* the array itself is not mapped */
	T(sendmmsg(a, bad_address, 2, 0));
	T(recvmmsg(b, bad_address, 2, MSG_DONTWAIT, NULL));
	T(syscall(SYS_sendmmsg, a, bad_address, 2, 0));
	close(a);
	close(b);
	/* an unconnected socket with no address to send to */
	a = T(socket(AF_INET, SOCK_DGRAM, 0));
	T(sendmmsg(a, vec(three, 1), 1, 0));
	entries();
	close(a);
}

static void tcp(void)
{
	struct sockaddr_in sa;
	socklen_t l = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	loopback(&sa);
	if (bind(lfd, (struct sockaddr *)&sa, l) || listen(lfd, 4) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &l)) {
		perror("listener");
		exit(3);
	}
	int c = T(socket(AF_INET, SOCK_STREAM, 0));
	T(connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	int s = T(accept(lfd, NULL, NULL));
	T(sendmmsg(c, vec(three, 2), 2, 0));
	entries();
	/* both messages are in the queue: the first read takes all of it */
	T(recvmmsg(s, vec(NULL, 0), 2, MSG_DONTWAIT, NULL));
	entries();
	T(syscall(SYS_sendmmsg, s, vec(three + 2, 1), 1, 0));
	T(syscall(SYS_recvmmsg, c, vec(NULL, 0), 1, 0, NULL));
	entries();
	T(shutdown(c, SHUT_WR));
	/* EOF: every entry read, each of 0 bytes */
	T(recvmmsg(s, vec(NULL, 0), 2, 0, NULL));
	entries();
	T(close(s));
	T(close(c));
	T(close(lfd));
}

static void not_sockets(void)
{
	int p[2];

	T(sendmmsg(-1, vec(three, 1), 1, 0));
	T(recvmmsg(12345, vec(NULL, 0), 1, 0, NULL));
	T(syscall(SYS_recvmmsg, -1, vec(NULL, 0), 1, 0, NULL));
	T(pipe(p));
	T(sendmmsg(p[1], vec(three, 1), 1, 0));
	T(recvmmsg(p[0], vec(NULL, 0), 1, MSG_DONTWAIT, NULL));
	T(syscall(SYS_sendmmsg, p[1], vec(three, 1), 1, 0));
	entries();
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	udp();
	tcp();
	not_sockets();
	return 0;
}
