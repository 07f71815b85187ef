/* SPDX-License-Identifier: MIT */
/* The trace file's place and identity: its directory, name and header. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "tracefile.h"
#include "state.h"

static long sys_open(const char *path, int flags, int mode)
{
	return st__sys(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0, 0);
}

static void sys_close(long fd)
{
	st__sys(SYS_close, fd, 0, 0, 0, 0, 0);
}

/* Reads a small /proc or /sys file into BUF (NUL-terminated, no newline). */
static void read_small(const char *path, char *buf, size_t len)
{
	long fd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
	buf[0] = 0;
	if (fd < 0)
		return;
	long n = st__sys(SYS_read, fd, (long)buf, (long)len - 1, 0, 0, 0);
	sys_close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
}

long st__trace_dir_open(void)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	long dfd = sys_open(st__cfg.dir, flags, 0);

	if (dfd < 0 && errno == ENOENT) { /* the first process makes it */
		st__sys(SYS_mkdirat, AT_FDCWD, (long)st__cfg.dir, 0700, 0, 0,
			0);
		dfd = sys_open(st__cfg.dir, flags, 0);
	}
	if (dfd < 0) {
		st__debug("cannot open the trace directory (SOCKTRACE_DIR)",
			  errno);
		return -1;
	}
	if (st__sys(SYS_fstat, dfd, (long)&st, 0, 0, 0, 0) < 0 ||
	    st.st_uid != geteuid() || (st.st_mode & 022)) {
		errno = EPERM;
		st__debug("trace directory is not owned by this user or is "
			  "writable by others: refusing it",
			  0);
		sys_close(dfd);
		return -1;
	}
	return dfd;
}

/*
 * What a header repeats from the parent's: the program image, the host
 * and the boot do not change across fork, so a forked child (one per
 * connection, in some servers) does not read them again; nor the
 * sysctls (somaxconn, the TCP timers), read when the image made its
 * first file.
 */
static struct {
	bool known;
	int32_t somaxconn;
	/* net.ipv4: how long SYN_SENT, SYN_RECV and FIN_WAIT_2 can last */
	int32_t tcp_fin_timeout, tcp_syn_retries, tcp_synack_retries;
	int32_t tcp_tw_reuse;
	char exe[256];
	char host[64];
	char boot_id[40];
} same;

/* The integer in sysctl file PATH, -1 if unreadable. */
static int32_t read_sysctl(const char *path)
{
	char buf[64];

	read_small(path, buf, sizeof(buf));
	return buf[0] ? atoi(buf) : -1;
}

static void read_same(void)
{
	struct utsname u;

	same.somaxconn = read_sysctl("/proc/sys/net/core/somaxconn");
	same.tcp_fin_timeout =
		read_sysctl("/proc/sys/net/ipv4/tcp_fin_timeout");
	same.tcp_syn_retries =
		read_sysctl("/proc/sys/net/ipv4/tcp_syn_retries");
	same.tcp_synack_retries =
		read_sysctl("/proc/sys/net/ipv4/tcp_synack_retries");
	same.tcp_tw_reuse = read_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse");
	long n = st__sys(SYS_readlink, (long)"/proc/self/exe", (long)same.exe,
			 sizeof(same.exe) - 1, 0, 0, 0);

	same.exe[n > 0 ? n : 0] = 0;
	if (uname(&u) == 0)
		memcpy(same.host, u.nodename, sizeof(same.host) - 1);
	read_small("/proc/sys/kernel/random/boot_id", same.boot_id,
		   sizeof(same.boot_id));
	same.known = true;
}

void st__header_fill(struct st_header *h, const char *comm, uint64_t capacity)
{
	struct timespec m, r;

	st_header_layout(h, capacity, st__cfg.policy);
	h->pid = st__pid;
	h->ppid = (int32_t)st__sys(SYS_getppid, 0, 0, 0, 0, 0, 0);
	h->uid = (int32_t)geteuid();
	if (!same.known)
		read_same();
	h->somaxconn = same.somaxconn;
	h->tcp_fin_timeout = same.tcp_fin_timeout;
	h->tcp_syn_retries = same.tcp_syn_retries;
	h->tcp_synack_retries = same.tcp_synack_retries;
	h->tcp_tw_reuse = same.tcp_tw_reuse;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	h->mono_ns = (uint64_t)m.tv_sec * 1000000000u + m.tv_nsec;
	h->real_ns = (uint64_t)r.tv_sec * 1000000000u + r.tv_nsec;
	memcpy(h->comm, comm, sizeof(h->comm));
	memcpy(h->exe, same.exe, sizeof(h->exe));
	memcpy(h->host, same.host, sizeof(h->host));
	memcpy(h->boot_id, same.boot_id, sizeof(h->boot_id));
}

/* Not snprintf: a forked child would fault its code pages in, one by
 * one, for each file it makes. */
char *st__put_s(char *p, const char *end, const char *s)
{
	while (*s && p < end - 1)
		*p++ = *s++;
	*p = 0;
	return p;
}

char *st__put_u(char *p, const char *end, unsigned long v)
{
	char d[24];
	int n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n && p < end - 1)
		*p++ = d[--n];
	*p = 0;
	return p;
}

long st__trace_file_new(long dfd, const char *comm, char *name, size_t len)
{
	char safe[16];
	long fd = -1;

	memcpy(safe, comm, sizeof(safe));
	for (char *p = safe; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			*p = '_';
	for (int k = 0; k < 1000 && fd < 0; k++) {
		/* COMM-PID.trace, COMM-PID.K.trace */
		const char *e = name + len;
		char *p = st__put_u(st__put_s(st__put_s(name, e, safe), e, "-"),
				    e, (unsigned long)st__pid);
		if (k)
			p = st__put_u(st__put_s(p, e, "."), e,
				      (unsigned long)k);
		st__put_s(p, e, ".trace");
		fd = st__sys(SYS_openat, dfd, (long)name,
			     O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600, 0, 0);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd;
}
