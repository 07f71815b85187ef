/* SPDX-License-Identifier: MIT */
/* What stopping a program at a system call costs here, at the least. */

/*
 * stopcost: the floor under run --ptrace's cost.  A child calls
 * getppid() N times under a one-rule seccomp filter, and a parent that
 * does nothing else lets each call go on: ptrace seccomp stops (as run
 * --ptrace's entry stop), the same with the exit stop too (as run
 * --ptrace for every call whose result it records), and seccomp user
 * notification (SECCOMP_USER_NOTIF_FLAG_CONTINUE: the other way a
 * supervisor can see a call).  Prints ns per call for each, best of 5
 * rounds, and getppid() unfiltered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N      20000
#define ROUNDS 5

enum how { PTRACE_ENTRY, PTRACE_BOTH, NOTIF };

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Installs a filter giving RET for getppid; the listener fd for user
 * notification, else 0. */
static int filter(unsigned ret)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { sizeof(f) / sizeof(f[0]), f };
	unsigned flags = ret == SECCOMP_RET_USER_NOTIF
				 ? SECCOMP_FILTER_FLAG_NEW_LISTENER
				 : 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS");
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
	if (fd < 0)
		die("seccomp");
	return fd;
}

/* The child's loop: ns per getppid(), written to FD. */
static void calls(int fd)
{
	unsigned long long t = now_ns();

	for (int i = 0; i < N; i++)
		syscall(SYS_getppid);
	t = (now_ns() - t) / N;
	if (write(fd, &t, sizeof(t)) != sizeof(t))
		_exit(1);
	_exit(0);
}

static void send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec io = { "f", 1 };
	struct msghdr m = { .msg_iov = &io,
			    .msg_iovlen = 1,
			    .msg_control = buf,
			    .msg_controllen = sizeof(buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))], x;
	struct iovec io = { &x, 1 };
	struct msghdr m = { .msg_iov = &io,
			    .msg_iovlen = 1,
			    .msg_control = buf,
			    .msg_controllen = sizeof(buf) };
	int fd;

	if (recvmsg(sock, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		die("recvmsg");
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

/* Lets each notified call go on until the child is done. */
static void supervise(int fd)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	for (;;) {
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req))
			return; /* the child has exited */
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

/* Follows the child with ptrace: at each seccomp stop the call is read
 * (as run --ptrace does) and let go, to its exit stop with BOTH. */
static void trace(pid_t c, bool both)
{
	struct __ptrace_syscall_info si;
	int st;

	while (waitpid(c, &st, __WALL) == c && WIFSTOPPED(st)) {
		int ev = st >> 16, sig = WSTOPSIG(st);
		long req = PTRACE_CONT, give = 0;
		if (ev == PTRACE_EVENT_SECCOMP || sig == (SIGTRAP | 0x80))
			ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof(si), &si);
		if (ev == PTRACE_EVENT_SECCOMP && both)
			req = PTRACE_SYSCALL;
		else if (!ev && sig != (SIGTRAP | 0x80))
			give = sig;
		ptrace(req, c, 0, (void *)give);
	}
}

/* One round of HOW: ns per call. */
static unsigned long long round_of(enum how how)
{
	int sv[2], res[2];
	unsigned long long ns = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(res))
		die("socketpair");
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		char go;
		if (how == NOTIF) {
			int fd = filter(SECCOMP_RET_USER_NOTIF);
			send_fd(sv[1], fd);
			close(fd);
		} else {
			if (read(sv[1], &go, 1) != 1)
				_exit(1);
			filter(SECCOMP_RET_TRACE);
		}
		calls(res[1]);
	}
	close(res[1]);
	if (how == NOTIF) {
		int fd = recv_fd(sv[0]);
		supervise(fd);
		close(fd);
	} else {
		if (ptrace(PTRACE_SEIZE, c, 0,
			   (void *)(PTRACE_O_TRACESECCOMP |
				    PTRACE_O_TRACESYSGOOD)))
			die("PTRACE_SEIZE");
		if (write(sv[0], "g", 1) != 1)
			die("write");
		trace(c, how == PTRACE_BOTH);
	}
	if (read(res[0], &ns, sizeof(ns)) != sizeof(ns))
		ns = 0;
	waitpid(c, NULL, 0);
	close(res[0]);
	close(sv[0]);
	close(sv[1]);
	return ns;
}

int main(void)
{
	static const char *const what[] = {
		[PTRACE_ENTRY] = "ptrace seccomp stop (entry only)",
		[PTRACE_BOTH] = "ptrace seccomp stop and exit stop",
		[NOTIF] = "seccomp user notification (continue)",
	};
	unsigned long long best = ~0ull;

	for (int r = 0; r < ROUNDS; r++) {
		unsigned long long t = now_ns();
		for (int i = 0; i < N; i++)
			syscall(SYS_getppid);
		t = (now_ns() - t) / N;
		best = t < best ? t : best;
	}
	printf("%-40s %8llu ns per call\n", "getppid(), no filter", best);
	for (int h = PTRACE_ENTRY; h <= NOTIF; h++) {
		best = ~0ull;
		for (int r = 0; r < ROUNDS; r++) {
			unsigned long long t = round_of((enum how)h);
			if (t && t < best)
				best = t;
		}
		printf("%-40s %8llu ns per call\n", what[h], best);
	}
	return 0;
}
