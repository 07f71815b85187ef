/* SPDX-License-Identifier: MIT */
/* The trace writer under ThreadSanitizer: many threads, one file, checked. */

/*
 * Built (make tsan) from the preload's own writer, start-up and fd-table
 * sources and the viewer's reader, all with -fsanitize=thread.  Without
 * arguments it runs every scenario, each in a child process of its own
 * (the library reads its configuration once, at start-up):
 *
 *   grow  a 16 MiB cap: 8 threads x 6,000 records grow the file by
 *         chunks while writing; every record must be there, once, intact
 *   stop  a 1,000-slot cap, stop policy: exactly the first 1,000
 *         reservations are kept, each thread's a prefix of its own
 *   ring  a 1,000-slot cap, ring policy: wraps 48 times; what is kept is
 *         the newest window, intact, each thread's records in order
 *   lap   a 16-slot ring under 8 threads: writers lap each other inside
 *         one slot all the time; no torn record may be read back
 *
 * Threads also register sockets in the fd table at once (its chunks are
 * made on first use, by whichever thread gets there).  Any TSan report
 * makes the scenario's exit status non-zero (TSan's exitcode).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../preload/clock.h"
#include "../../preload/fdtab.h"
#include "../../preload/state.h"
#include "../../preload/writer.h"
#include "../../viewer/trace.h"

#define THREADS	   8
#define PER_THREAD 6000
/* fd numbers far from real ones, spread over the table's chunks (1,024
 * fds each) so that threads race to make them */
#define FD_OF(t, i) (100000 + (((i) / 50) * THREADS + (t)) * 37)

static pthread_barrier_t start;

/* What record I of thread T holds, so a torn record shows. */
static uint64_t mark(int t, int i)
{
	return ((uint64_t)t << 48 | (uint64_t)i << 16) ^ 0x5a5a5a5a5a5aull;
}

static void *writer(void *arg)
{
	int t = (int)(intptr_t)arg;

	pthread_barrier_wait(&start);
	for (int i = 0; i < PER_THREAD; i++) {
		/* a socket per 50 records, fds of all threads interleaved */
		int fd = FD_OF(t, i);
		if (i % 50 == 0)
			st__fd_new_socket(fd, AF_INET, SOCK_STREAM);
		struct st__call c = { .ts = st__now(), .fd = fd };
		c.word = st__fd_get(fd);
		struct st_rec *r = st__rec(&c, ST_CALL_write, i, 0);
		if (!r)
			continue; /* full (stop), or lapped (ring): counted */
		r->u.data.asked = mark(t, i);
		r->u.data.flags = t;
		r->u.data.addr.port = (uint16_t)i;
		st__publish(&c, r);
	}
	return NULL;
}

static int fail(const char *what, const char *msg)
{
	fprintf(stderr, "tsan %s: FAIL: %s\n", what, msg);
	return 1;
}

/* Reads the one trace file in DIR back and checks it for SCENARIO. */
static int check(const char *scenario, const char *dir)
{
	char *paths[1] = { (char *)dir }, **files, err[ST_ERR_LEN], msg[256];
	struct st_trace tr;
	int n = st_trace_find(paths, 1, &files, err);

	if (n != 1)
		return fail(scenario, n < 0 ? err : "want one trace file");
	int rc = st_trace_open(&tr, files[0], err);
	free(files[0]);
	free(files);
	if (rc)
		return fail(scenario, err);

	const uint64_t total = (uint64_t)THREADS * PER_THREAD;
	const uint64_t cap = tr.hdr.capacity;
	int last[THREADS], count[THREADS] = { 0 };
	uint64_t conn_of[THREADS][PER_THREAD / 50] = { { 0 } };
	uint64_t torn = 0;
	struct st_rec r;

	for (int t = 0; t < THREADS; t++)
		last[t] = -1;
	if (tr.hdr.next != total)
		snprintf(msg, sizeof(msg), "next %llu, want %llu",
			 (unsigned long long)tr.hdr.next,
			 (unsigned long long)total);
	else
		msg[0] = 0;
	for (uint64_t k = tr.first; k < tr.end && !msg[0]; k++) {
		if (st_trace_get(&tr, k, &r) != 1)
			continue;
		int t = r.u.data.flags, i = (int)r.ret;
		if (t < 0 || t >= THREADS || i < 0 || i >= PER_THREAD ||
		    r.call != ST_CALL_write || r.u.data.asked != mark(t, i) ||
		    r.u.data.addr.port != (uint16_t)i || r.fd != FD_OF(t, i)) {
			torn++;
			continue;
		}
		/* one thread reserves in order: its records come in order */
		if (i <= last[t]) {
			snprintf(msg, sizeof(msg),
				 "thread %d record %d after %d", t, i, last[t]);
			break;
		}
		/* every socket its own id, the same for all its records */
		uint64_t *cn = &conn_of[t][i / 50];
		if (!r.conn || (*cn && *cn != r.conn)) {
			snprintf(msg, sizeof(msg),
				 "thread %d record %d: "
				 "connection id %#llx",
				 t, i, (unsigned long long)r.conn);
			break;
		}
		*cn = r.conn;
		last[t] = i;
		count[t]++;
	}
	if (!msg[0] && torn)
		snprintf(msg, sizeof(msg), "%llu torn records",
			 (unsigned long long)torn);
	if (!msg[0] && tr.corrupt)
		snprintf(msg, sizeof(msg), "%llu corrupt records",
			 (unsigned long long)tr.corrupt);

	uint64_t kept = total < cap ? total : cap;
	if (msg[0]) {
		/* found above */
	} else if (!strcmp(scenario, "grow")) {
		/* all there: every thread's every record, nothing lost */
		for (int t = 0; t < THREADS && !msg[0]; t++)
			if (count[t] != PER_THREAD)
				snprintf(msg, sizeof(msg),
					 "thread %d: %d records", t, count[t]);
		if (!msg[0] && (tr.lost || tr.missing || tr.good != total))
			snprintf(msg, sizeof(msg),
				 "good %llu lost %llu missing %llu",
				 (unsigned long long)tr.good,
				 (unsigned long long)tr.lost,
				 (unsigned long long)tr.missing);
		if (!msg[0] && tr.hdr.mapped < total)
			snprintf(msg, sizeof(msg), "mapped %llu slots",
				 (unsigned long long)tr.hdr.mapped);
	} else if (!strcmp(scenario, "stop")) {
		/* the first CAP reservations, all completed: each thread's
		 * kept records are the first ones it made */
		for (int t = 0; t < THREADS && !msg[0]; t++)
			if (last[t] != count[t] - 1)
				snprintf(msg, sizeof(msg),
					 "thread %d kept %d, not a prefix", t,
					 count[t]);
		if (!msg[0] &&
		    (tr.good != cap || tr.missing || tr.lost != total - cap))
			snprintf(msg, sizeof(msg),
				 "good %llu lost %llu missing %llu",
				 (unsigned long long)tr.good,
				 (unsigned long long)tr.lost,
				 (unsigned long long)tr.missing);
	} else {
		/* ring, lap: the newest window; a writer lapped in its slot
		 * gives its record up (missing), never tears another */
		if (tr.good + tr.missing != kept || tr.lost != total - kept)
			snprintf(msg, sizeof(msg),
				 "good %llu missing %llu lost %llu",
				 (unsigned long long)tr.good,
				 (unsigned long long)tr.missing,
				 (unsigned long long)tr.lost);
	}
	st_trace_close(&tr);
	if (msg[0])
		return fail(scenario, msg);
	printf("tsan %s: ok: %llu records written by %d threads, %llu read "
	       "back intact, %llu lost, %llu given up in a lapped slot\n",
	       scenario, (unsigned long long)total, THREADS,
	       (unsigned long long)tr.good, (unsigned long long)tr.lost,
	       (unsigned long long)tr.missing);
	return 0;
}

/* In a child: the library was configured from the environment. */
static int scenario(const char *name)
{
	pthread_t th[THREADS];

	pthread_barrier_init(&start, NULL, THREADS);
	for (int t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t))
			return fail(name, "pthread_create");
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	return check(name, getenv("SOCKTRACE_DIR"));
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name, *size, *full;
	} runs[] = {
		{ "grow", "16M", "ring" },
		{ "stop", "132096", "stop" }, /* 4096 + 1000 slots */
		{ "ring", "132096", "ring" },
		{ "lap", "6144", "ring" }, /* 4096 + 16 slots */
	};
	char base[] = "/tmp/socktrace-tsan-XXXXXX";
	int failed = 0;

	if (argc == 2 && getenv("SOCKTRACE_DIR"))
		return scenario(argv[1]);
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char dir[sizeof(base) + 16];
		snprintf(dir, sizeof(dir), "%s/%s", base, runs[i].name);
		pid_t p = fork();
		if (p == 0) {
			setenv("SOCKTRACE_DIR", dir, 1);
			setenv("SOCKTRACE_MAX_SIZE", runs[i].size, 1);
			setenv("SOCKTRACE_FULL", runs[i].full, 1);
			execl("/proc/self/exe", argv[0], runs[i].name,
			      (char *)NULL);
			_exit(127);
		}
		int st;
		if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st)) {
			fprintf(stderr, "tsan %s: FAIL (exit status %d)\n",
				runs[i].name, p < 0 ? -1 : st);
			failed++;
		}
		char rm[sizeof(dir) + 16];
		snprintf(rm, sizeof(rm), "rm -rf %s", dir);
		if (system(rm))
			failed++;
	}
	rmdir(base);
	printf("tsan: %d passed, %d failed\n",
	       (int)(sizeof(runs) / sizeof(runs[0])) - failed, failed);
	return failed ? 1 : 0;
}
