/* SPDX-License-Identifier: MIT */
/* Socket calls bracketed by the program's own CLOCK_MONOTONIC readings. */

/*
 * clocks THREADS CALLS: each thread writes and reads one byte on its own
 * socket pair CALLS times, pausing 50 us between rounds so the calls
 * span a few hundred milliseconds, and prints for every call
 * "TID CALL BEFORE AFTER": CLOCK_MONOTONIC ns read just before and just
 * after it.  A record's time must lie between the two.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int calls;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void *run(void *arg)
{
	int sv[2];
	char b = 'x';
	int tid = gettid();
	unsigned long long(*t)[4] = calloc(calls, sizeof(*t));
	struct timespec pause = { 0, 50000 };

	(void)arg;
	if (!t || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(1);
	for (int i = 0; i < calls; i++) {
		t[i][0] = now();
		if (write(sv[0], &b, 1) != 1)
			exit(1);
		t[i][1] = now();
		t[i][2] = now();
		if (read(sv[1], &b, 1) != 1)
			exit(1);
		t[i][3] = now();
		nanosleep(&pause, NULL);
	}
	pthread_mutex_lock(&out_lock);
	for (int i = 0; i < calls; i++)
		printf("%d write %llu %llu\n%d read %llu %llu\n", tid, t[i][0],
		       t[i][1], tid, t[i][2], t[i][3]);
	pthread_mutex_unlock(&out_lock);
	close(sv[0]);
	close(sv[1]);
	free(t);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	pthread_t th[16];

	calls = argc > 2 ? atoi(argv[2]) : 1000;
	if (n < 1 || n > 16 || calls < 1)
		return 2;
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, run, NULL))
			return 1;
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}
