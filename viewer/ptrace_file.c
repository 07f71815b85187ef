/* SPDX-License-Identifier: MIT */
/* The ptrace mode's trace files: the preload's format, mapped shared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ptrace_file.h"

/* Slots a file may grow to: 128 MiB of records, as the preload's
 * default cap (SOCKTRACE_MAX_SIZE) */
#define PF_CAPACITY (1ull << 20)

/* The first line of file PATH into BUF (LEN bytes), without its newline;
 * "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static int32_t read_sysctl(const char *path)
{
	char buf[32];

	read_line(path, buf, sizeof(buf));
	return buf[0] ? atoi(buf) : -1;
}

/* Fills header H of process PID (parent PPID), written by SOURCE. */
static void fill(struct st_header *h, pid_t pid, pid_t ppid, uint32_t source)
{
	char path[64];
	struct utsname u;
	struct timespec m, r;

	st_header_layout(h, PF_CAPACITY, ST_POLICY_STOP);
	h->source = source;
	h->pid = pid;
	h->ppid = ppid;
	h->uid = (int32_t)geteuid();
	h->somaxconn = read_sysctl("/proc/sys/net/core/somaxconn");
	h->tcp_fin_timeout = read_sysctl("/proc/sys/net/ipv4/tcp_fin_timeout");
	h->tcp_syn_retries = read_sysctl("/proc/sys/net/ipv4/tcp_syn_retries");
	h->tcp_synack_retries =
		read_sysctl("/proc/sys/net/ipv4/tcp_synack_retries");
	h->tcp_tw_reuse = read_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	read_line(path, h->comm, sizeof(h->comm));
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, h->exe, sizeof(h->exe) - 1);
	h->exe[n > 0 ? n : 0] = 0;
	if (uname(&u) == 0)
		memcpy(h->host, u.nodename, sizeof(h->host) - 1);
	read_line("/proc/sys/kernel/random/boot_id", h->boot_id,
		  sizeof(h->boot_id));
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	h->mono_ns = (uint64_t)m.tv_sec * 1000000000u + (uint64_t)m.tv_nsec;
	h->real_ns = (uint64_t)r.tv_sec * 1000000000u + (uint64_t)r.tv_nsec;
}

/* Creates COMM-PID.trace (or COMM-PID.K.trace) in DIR; its fd or -1. */
static int create(const char *dir, const char *comm, pid_t pid)
{
	char safe[16], name[4096];
	int fd = -1;

	snprintf(safe, sizeof(safe), "%s", comm);
	for (char *p = safe; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			*p = '_';
	for (int k = 0; k < 1000 && fd < 0; k++) {
		if (k)
			snprintf(name, sizeof(name), "%s/%s-%d.%d.trace", dir,
				 safe, (int)pid, k);
		else
			snprintf(name, sizeof(name), "%s/%s-%d.trace", dir,
				 safe, (int)pid);
		fd = open(name,
			  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd;
}

int st_pfile_open(struct st_pfile *f, const char *dir, pid_t pid, pid_t ppid,
		  uint32_t source)
{
	struct st_header *h = calloc(1, sizeof(*h));

	f->fd = -1;
	f->h = NULL;
	f->next = f->mapped = 0;
	if (!h) {
		fprintf(stderr, "socktrace: out of memory\n");
		return -1;
	}
	fill(h, pid, ppid, source);
	int fd = create(dir, h->comm, pid);
	if (fd < 0 || ftruncate(fd, ST_HEADER_SIZE) ||
	    pwrite(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h)) {
		fprintf(stderr,
			"socktrace: cannot write the trace of process %d in "
			"%s: %s; its calls are not recorded\n",
			(int)pid, dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(h);
		return -1;
	}
	free(h);
	/* the whole capacity at once (address space, not memory): the
	 * file grows under it a chunk at a time, and only what it holds
	 * is touched */
	f->h = mmap(NULL, ST_HEADER_SIZE + PF_CAPACITY * ST_SLOT_SIZE,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f->h == MAP_FAILED) {
		f->h = NULL;
		close(fd);
		return -1;
	}
	f->fd = fd;
	return 0;
}

/* Makes room for slot I: the file grows by a chunk of slots at a time. */
static bool room(struct st_pfile *f, uint64_t i)
{
	if (i < f->mapped)
		return true;
	uint64_t to = f->mapped + ST_CHUNK_SLOTS;
	if (to > PF_CAPACITY)
		to = PF_CAPACITY;
	/* blocks allocated now, not when the mapping touches them: a full
	 * disk then drops records instead of raising SIGBUS in the tracer
	 * (which would take the program down with it, EXITKILL) */
	if (posix_fallocate(f->fd,
			    (off_t)(ST_HEADER_SIZE + f->mapped * ST_SLOT_SIZE),
			    (off_t)((to - f->mapped) * ST_SLOT_SIZE)))
		return false;
	f->mapped = to;
	__atomic_store_n(&f->h->mapped, to, __ATOMIC_RELEASE);
	return true;
}

bool st_pfile_put(struct st_pfile *f, struct st_rec *r)
{
	if (f->fd < 0)
		return false;
	uint64_t n = f->next++;
	if (n >= PF_CAPACITY) {
		/* policy stop: next - capacity counts the loss */
		__atomic_store_n(&f->h->next, f->next, __ATOMIC_RELEASE);
		return false;
	}
	if (!room(f, n)) {
		f->next--;
		__atomic_fetch_add(&f->h->dropped, 1, __ATOMIC_RELAXED);
		return false;
	}
	struct st_rec *slot =
		(struct st_rec *)((char *)f->h + ST_HEADER_SIZE) + n;
	/* the body, then seq with release order: a reader that sees seq
	 * sees the whole record */
	memcpy((char *)slot + 8, (char *)r + 8, ST_SLOT_SIZE - 8);
	__atomic_store_n(&slot->seq, n + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&f->h->next, f->next, __ATOMIC_RELEASE);
	return true;
}

void st_pfile_exit(struct st_pfile *f, uint64_t ts)
{
	if (f->h)
		__atomic_store_n(&f->h->exit_ts, ts, __ATOMIC_RELAXED);
}

void st_pfile_close(struct st_pfile *f)
{
	if (f->h)
		munmap(f->h, ST_HEADER_SIZE + PF_CAPACITY * ST_SLOT_SIZE);
	if (f->fd >= 0)
		close(f->fd);
	f->h = NULL;
	f->fd = -1;
}
