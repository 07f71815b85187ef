/* SPDX-License-Identifier: MIT */
/* MSG_PEEK on a loopback TCP connection, through every receiving call. */

/*
 * peek: the server end sends "hello, peek" (11 bytes); the client peeks
 * at it with recv, recvfrom, recvmsg, recvmmsg and syscall(SYS_recvfrom),
 * all with MSG_PEEK, then reads it with read.  The client answers with 3
 * bytes and closes; the server peeks at them and reads them with recv,
 * then peeks at the end of file, reads it and closes.
 * Prints every result, errno and what was read, so a run under the
 * preload can be compared with a run without it.
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
#include <unistd.h>

#define SENTINEL 4242

static char buf[64];

static void show(const char *what, long ret)
{
	int e = errno;
	const char *n = e == SENTINEL ? "-" : strerrorname_np(e);

	printf("%-50s = %ld errno %s", what, ret, n ? n : "?");
	if (ret > 0 && ret < (long)sizeof(buf))
		printf(" \"%.*s\"", (int)ret, buf);
	printf("\n");
	fflush(stdout);
}

/* T(expr): run expr with errno at the sentinel, print result and errno. */
#define T(expr)                              \
	({                                   \
		errno = SENTINEL;            \
		memset(buf, 0, sizeof(buf)); \
		long r_ = (long)(expr);      \
		show(#expr, r_);             \
		r_;                          \
	})

static struct iovec iov = { buf, sizeof(buf) };
static struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
static struct mmsghdr mm = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };

/* A loopback listener on a port the kernel picks; its address in SA. */
static int listener(struct sockaddr_in *sa)
{
	socklen_t l = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, l) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)sa, &l)) {
		perror("listener");
		exit(3);
	}
	return fd;
}

int main(void)
{
	struct sockaddr_in sa;
	int lfd = listener(&sa);
	int c = T(socket(AF_INET, SOCK_STREAM, 0));

	T(connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	int s = T(accept(lfd, NULL, NULL));
	T(write(s, "hello, peek", 11));
	T(recv(c, buf, sizeof(buf), MSG_PEEK));
	T(recvfrom(c, buf, 5, MSG_PEEK, NULL, NULL));
	T(recvmsg(c, &mh, MSG_PEEK));
	T(recvmmsg(c, &mm, 1, MSG_PEEK, NULL));
	printf("msg_len %u\n", mm.msg_len);
	T(syscall(SYS_recvfrom, c, buf, sizeof(buf), MSG_PEEK, NULL, NULL));
	T(read(c, buf, sizeof(buf)));
	T(recv(c, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	T(send(c, "ok!", 3, 0));
	T(close(c));
	T(recv(s, buf, sizeof(buf), MSG_PEEK));
	T(recv(s, buf, sizeof(buf), 0));
	/* the end of file, peeked at and then read */
	T(recv(s, buf, sizeof(buf), MSG_PEEK));
	T(read(s, buf, sizeof(buf)));
	T(close(s));
	T(close(lfd));
	return 0;
}
