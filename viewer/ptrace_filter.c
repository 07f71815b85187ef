/* SPDX-License-Identifier: MIT */
/* The ptrace mode's stops: the calls it stops at, the seccomp filter
 * that stops them, and the program's start under it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ptrace.h"

#ifndef __x86_64__
#error "the filter is for the x86_64 ABI: port it first"
#endif

/* The socket lifecycle calls the filter stops at; fcntl is tested
 * apart, for the commands the records keep. */
static const int lifecycle[] = {
	SYS_socket,  SYS_socketpair,  SYS_bind,	      SYS_listen,
	SYS_connect, SYS_accept,      SYS_accept4,    SYS_shutdown,
	SYS_close,   SYS_close_range, SYS_dup,	      SYS_dup2,
	SYS_dup3,    SYS_setsockopt,  SYS_getsockopt,
};
#define NCALLS ((int)(sizeof(lifecycle) / sizeof(lifecycle[0])))
/* --data: the data calls too (on every fd: the filter cannot tell a
 * socket from a file; the tracer lets the others go at once) */
static const int datacalls[] = {
	SYS_read,     SYS_write,    SYS_readv,	  SYS_writev,
	SYS_recvfrom, SYS_sendto,   SYS_recvmsg,  SYS_sendmsg,
	SYS_sendfile, SYS_recvmmsg, SYS_sendmmsg,
};
#define NDATA ((int)(sizeof(datacalls) / sizeof(datacalls[0])))

/*
 * Installs the filter: SECCOMP_RET_TRACE for the lifecycle calls of the
 * x86_64 ABI (and the data calls with DATA), everything else allowed
 * (the i386 and x32 ABIs too: their calls are not seen).  0, or -1 with
 * errno set.
 */
static int install_filter(bool data)
{
	struct sock_filter f[NCALLS + NDATA + 12];
	int nrs[NCALLS + NDATA], k = 0;

	for (int i = 0; i < NCALLS; i++)
		nrs[k++] = lifecycle[i];
	for (int i = 0; data && i < NDATA; i++)
		nrs[k++] = datacalls[i];
	int n = 0, allow = k + 10, trace = k + 11;
#define AT(i) ((unsigned char)((i)-n - 1)) /* jump from the next one */

	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    AUDIT_ARCH_X86_64, 1, 0);
	n++;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					    0x40000000, AT(allow), 0);
	n++;
	for (int i = 0; i < k; i++, n++)
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    nrs[i], AT(trace), 0);
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    SYS_fcntl, 0, AT(allow));
	n++;
	/* the command's low 32 bits (little-endian) */
	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, args[1]));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD,
					    AT(trace), 0);
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    F_DUPFD_CLOEXEC, AT(trace), 0);
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETFL,
					    AT(trace), AT(allow));
	n++;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_TRACE);
#undef AT
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

const char *st_ptrace_refuse(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
		return st.st_mode & S_ISUID
			       ? "it is setuid: with PR_SET_NO_NEW_PRIVS, "
				 "which the seccomp filter needs, it would "
				 "run without its privileges"
			       : "it is setgid: with PR_SET_NO_NEW_PRIVS, "
				 "which the seccomp filter needs, it would "
				 "run without its privileges";
	/* file capabilities (setcap) are dropped the same way */
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return "it has file capabilities (setcap): with "
		       "PR_SET_NO_NEW_PRIVS, which the seccomp filter needs, "
		       "it would run without them";
	return NULL;
}

void st_ptrace_child(const char *exe, char **cmd, int go[2], bool data,
		     const struct sigaction *oint,
		     const struct sigaction *oquit)
{
	char c;

	sigaction(SIGINT, oint, NULL);
	sigaction(SIGQUIT, oquit, NULL);
	close(go[1]);
	/* EOF without a byte: the parent could not trace us */
	if (read(go[0], &c, 1) != 1)
		_exit(127);
	close(go[0]);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || install_filter(data)) {
		fprintf(stderr,
			"socktrace run: cannot install the seccomp filter: "
			"%s (--ptrace needs Linux seccomp-bpf)\n",
			strerror(errno));
		_exit(127);
	}
	execv(exe, cmd);
	fprintf(stderr, "socktrace run: %s: %s\n", exe, strerror(errno));
	_exit(127);
}

bool st_ptrace_lifecycle(long nr, unsigned long cmd)
{
	for (int i = 0; i < NCALLS; i++)
		if (lifecycle[i] == nr)
			return true;
	return nr == SYS_fcntl &&
	       ((int)cmd == F_DUPFD || (int)cmd == F_DUPFD_CLOEXEC ||
		(int)cmd == F_SETFL);
}
