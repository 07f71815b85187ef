/* SPDX-License-Identifier: MIT */
/*
 * The workloads of 'make bench', each a tight loop of calls.
 *
 *   loops churn N  N loopback connections: socket, connect, accept, a
 *                  1-byte write and read, close both ends
 *   loops data N   N 1-byte write/read pairs on one loopback connection
 *   loops pipe N   N 1-byte write/read pairs on a pipe (not a socket)
 *   loops forks N  a fork-per-connection server (inetd, PostgreSQL,
 *                  sshd): N connections from a client process; for
 *                  each the server accepts and forks a child, which
 *                  closes the listener, reads and writes a byte, closes
 *                  and exits; the server closes its copy and reaps it
 *
 * Prints the loop's own time, "ns=...", so process start-up (and a
 * tracer's attach) is not part of the figure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int listener(struct sockaddr_in *sa)
{
	socklen_t l = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) ||
	    listen(fd, 128) || getsockname(fd, (struct sockaddr *)sa, &l))
		die("listener");
	return fd;
}

static void one_byte(int from, int to)
{
	char b = 'x';

	if (write(from, &b, 1) != 1 || read(to, &b, 1) != 1)
		die("write/read");
}

static void churn(long n)
{
	struct sockaddr_in sa;
	int l = listener(&sa);

	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
		int s = accept(l, NULL, NULL);
		if (s < 0)
			die("accept");
		one_byte(c, s);
		close(c);
		close(s);
	}
	close(l);
}

static void data(long n)
{
	struct sockaddr_in sa;
	int l = listener(&sa);
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	for (long i = 0; i < n; i++)
		one_byte(c, s);
	close(c);
	close(s);
	close(l);
}

/* The client of forks: N connections, a byte each way, client closes. */
static void fork_client(const struct sockaddr_in *sa, long n)
{
	char b = 'x';

	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 ||
		    connect(c, (const struct sockaddr *)sa, sizeof(*sa)))
			die("connect");
		if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1)
			die("client write/read");
		close(c);
	}
}

static void forks(long n)
{
	struct sockaddr_in sa;
	int l = listener(&sa);
	char b;
	pid_t client = fork();

	if (client == 0) {
		close(l);
		fork_client(&sa, n);
		_exit(0);
	}
	for (long i = 0; i < n; i++) {
		int s = accept(l, NULL, NULL);
		if (s < 0)
			die("accept");
		pid_t child = fork();
		if (child == 0) {
			close(l);
			if (read(s, &b, 1) != 1 || write(s, &b, 1) != 1)
				_exit(1);
			close(s);
			_exit(0);
		}
		int st;
		close(s);
		if (child < 0 || waitpid(child, &st, 0) != child || st)
			die("server child");
	}
	close(l);
	int st;
	if (waitpid(client, &st, 0) != client || st)
		die("client");
}

static void pipes(long n)
{
	int p[2];

	if (pipe(p))
		die("pipe");
	for (long i = 0; i < n; i++)
		one_byte(p[1], p[0]);
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: loops churn|data|pipe|forks N\n");
		return 2;
	}
	long n = atol(argv[2]);
	unsigned long long t = now_ns();

	if (!strcmp(argv[1], "churn"))
		churn(n);
	else if (!strcmp(argv[1], "data"))
		data(n);
	else if (!strcmp(argv[1], "pipe"))
		pipes(n);
	else if (!strcmp(argv[1], "forks"))
		forks(n);
	else {
		fprintf(stderr, "loops: unknown workload %s\n", argv[1]);
		return 2;
	}
	printf("ns=%llu\n", now_ns() - t);
	return 0;
}
