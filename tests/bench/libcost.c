/* SPDX-License-Identifier: MIT */
/* What the library itself costs per record, with the kernel left out. */

/*
 * libcost N: the preload's sources linked into this program, write()
 * called N times on a socket with the real write replaced by a stub, so
 * what is timed is the wrapper, the timestamps and the record: the part
 * a noisy machine cannot hide under a system call.  Prints the best of
 * 15 rounds in ns per call.  With SOCKTRACE_MAX_SIZE=1M the records go
 * round a 1 MiB ring that stays in cache: the library's own work; with a
 * large size the file grows as it does while a program runs, and each
 * new page of records costs the kernel a page-cache page.  SOCKTRACE_DIR
 * must name a scratch directory on the file system to measure ('make
 * bench-costs' runs both).  Also prints what the library adds to a call
 * on an fd that is not a socket (a pipe), which it passes through, and
 * to a syscall(3) of a number that is not a socket call (getppid).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "state.h"
#include "writer.h"

static ssize_t stub_write(int fd, const void *b, size_t n)
{
	(void)fd;
	(void)b;
	return (ssize_t)n;
}

/* The stub called straight, for the pass-through baseline. */
static ssize_t (*volatile direct)(int, const void *, size_t) = stub_write;

static long stub_syscall(long nr, ...)
{
	return nr;
}
static long (*volatile direct_sc)(long, ...) = stub_syscall;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* syscall(3) of a number that is not a socket call: the six words read,
 * one switch, then the (stubbed) real syscall().  Where the library does
 * not wrap syscall() this measures libc's stub alone. */
static int syscall_cost(long n)
{
	double wrapped = 1e18, plain = 1e18;

	st__real.syscall = stub_syscall;
	for (int r = 0; r < 15; r++) {
		unsigned long long t = now_ns();
		for (long i = 0; i < n; i++)
			if (syscall(SYS_getppid) < 0)
				return 1;
		double d = (double)(now_ns() - t) / n;
		if (d < wrapped)
			wrapped = d;
		t = now_ns();
		for (long i = 0; i < n; i++)
			if (direct_sc(SYS_getppid) < 0)
				return 1;
		d = (double)(now_ns() - t) / n;
		if (d < plain)
			plain = d;
	}
	printf("syscall(3) of a non-socket number: +%.1f ns "
	       "(%.1f ns wrapped, %.1f ns called straight)\n",
	       wrapped - plain, wrapped, plain);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	const char *size = getenv("SOCKTRACE_MAX_SIZE");
	double best = 1e18;
	int sv[2];
	char b = 'x';

	if (!getenv("SOCKTRACE_DIR") || n < 1) {
		fprintf(stderr, "usage: SOCKTRACE_DIR=DIR libcost [N]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    write(sv[0], &b, 1) != 1) { /* makes the trace file */
		perror("libcost");
		return 1;
	}
	st__resolve();
	st__real.write = stub_write;
	for (int r = 0; r < 15; r++) {
		unsigned long long t = now_ns();
		for (long i = 0; i < n; i++)
			if (write(sv[0], &b, 1) != 1)
				return 1;
		double d = (double)(now_ns() - t) / n;
		if (d < best)
			best = d;
	}
	printf("library cost per record, SOCKTRACE_MAX_SIZE=%s: %.0f ns "
	       "(best of 15 x %ld)\n",
	       size ? size : "64M", best, n);
	if (size && strcmp(size, "1M"))
		return 0;
	/* a pipe: one table lookup, then the (stubbed) real call */
	int pp[2];
	double wrapped = 1e18, plain = 1e18;
	if (pipe(pp) || write(pp[1], &b, 1) != 1) /* classified: not a socket */
		return 1;
	for (int r = 0; r < 15; r++) {
		unsigned long long t = now_ns();
		for (long i = 0; i < n; i++)
			if (write(pp[1], &b, 1) != 1)
				return 1;
		double d = (double)(now_ns() - t) / n;
		if (d < wrapped)
			wrapped = d;
		t = now_ns();
		for (long i = 0; i < n; i++)
			if (direct(pp[1], &b, 1) != 1)
				return 1;
		d = (double)(now_ns() - t) / n;
		if (d < plain)
			plain = d;
	}
	printf("pass-through of a call on a non-socket fd: +%.1f ns "
	       "(%.1f ns wrapped, %.1f ns called straight)\n",
	       wrapped - plain, wrapped, plain);
	return syscall_cost(n);
}
