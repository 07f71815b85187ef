/* SPDX-License-Identifier: MIT */
/* Programs that set their own resource limits, then use sockets. */

/*
 * limits fsize BYTES [ROUNDS]: sets RLIMIT_FSIZE to BYTES, then makes
 * ROUNDS (default 10) loopback TCP connections, each with a write and a
 * read, and writes a file of BYTES bytes of its own (allowed) and one
 * byte more (EFBIG, SIGXFSZ ignored for it).
 * limits fsize-later BYTES ROUNDS: one connection first (the library
 * makes its file then), then the limit, then ROUNDS more.
 * limits fsize-setuid BYTES: the same limit, a socket, then (as root)
 * setuid to nobody, which makes the library allocate its whole file,
 * then more sockets.
 * limits as MIB: sets RLIMIT_AS to what the process maps now plus MIB
 * MiB, makes sockets, then maps MIB - 4 MiB and writes to it.
 * limits vm: one connection, then prints the bytes mapped.
 * limits as-later BYTES MIB: one connection first (the library makes
 * its file then), then RLIMIT_AS set to BYTES, 300 more connections,
 * and a mapping of MIB MiB, written to.
 * Each prints what it did; nothing printed depends on addresses or
 * timing, so a traced run can be compared with an untraced one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_limit(int what, unsigned long long v)
{
	struct rlimit rl = { v, v };

	if (setrlimit(what, &rl)) {
		perror("setrlimit");
		exit(3);
	}
}

/* One loopback connection: connect, accept, 5 bytes each way, close.
 * 0 when every call did what it should. */
static int round_trip(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t l = sizeof(sa);
	char buf[8];
	int bad = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	bad += bind(lfd, (struct sockaddr *)&sa, l) != 0;
	bad += listen(lfd, 4) != 0;
	bad += getsockname(lfd, (struct sockaddr *)&sa, &l) != 0;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	bad += connect(c, (struct sockaddr *)&sa, l) != 0;
	int s = accept(lfd, NULL, NULL);
	bad += write(c, "hello", 5) != 5;
	bad += read(s, buf, sizeof(buf)) != 5;
	bad += write(s, "world", 5) != 5;
	bad += read(c, buf, sizeof(buf)) != 5;
	bad += close(c) != 0;
	bad += close(s) != 0;
	bad += close(lfd) != 0;
	return bad;
}

static int rounds(int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		bad += round_trip() != 0;
	printf("%d rounds, %d failed\n", n, bad);
	return bad;
}

/* Writes N bytes to a new file in the current directory, then one more;
 * prints what each write returned. */
static void own_file(long n)
{
	char name[] = "limits-own-XXXXXX";
	int fd = mkstemp(name);
	char *buf = calloc(1, (size_t)n + 1);

	if (fd < 0 || !buf) {
		perror("own file");
		exit(3);
	}
	unlink(name);
	signal(SIGXFSZ, SIG_IGN);
	ssize_t a = write(fd, buf, (size_t)n);
	errno = 0;
	ssize_t b = write(fd, buf, 1);
	printf("own file: %zd bytes, then %zd (%s)\n", a, b,
	       strerrorname_np(errno) ? strerrorname_np(errno) : "-");
	signal(SIGXFSZ, SIG_DFL);
	close(fd);
	free(buf);
}

static int fsize(long bytes, int n)
{
	set_limit(RLIMIT_FSIZE, (unsigned long long)bytes);
	int bad = rounds(n);
	own_file(bytes);
	return bad ? 1 : 0;
}

static int fsize_later(long bytes, int n)
{
	int bad = rounds(1);

	set_limit(RLIMIT_FSIZE, (unsigned long long)bytes);
	bad += rounds(n);
	own_file(bytes);
	return bad ? 1 : 0;
}

static int fsize_setuid(long bytes)
{
	set_limit(RLIMIT_FSIZE, (unsigned long long)bytes);
	int bad = rounds(1);
	int r = setuid(65534);
	printf("setuid: %d\n", r);
	bad += rounds(100);
	return bad ? 1 : 0;
}

/* Bytes of address space the process has mapped now. */
static unsigned long long mapped_now(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%llu", &pages) != 1) {
		perror("statm");
		exit(3);
	}
	fclose(f);
	return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

static int as(long mib)
{
	/* printf's buffer and the like are mapped before the limit */
	printf("address space limit: now + %ld MiB\n", mib);
	fflush(stdout);
	set_limit(RLIMIT_AS, mapped_now() + ((unsigned long long)mib << 20));
	int bad = rounds(10);
	size_t len = (size_t)(mib - 4) << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap %ld MiB: %s\n", mib - 4, strerrorname_np(errno));
		return 1;
	}
	memset(p, 1, len);
	printf("mmap %ld MiB: ok\n", mib - 4);
	munmap(p, len);
	return bad ? 1 : 0;
}

/* Maps MIB MiB and writes to it; 0, or 1 after saying it failed. */
static int map_mib(long mib)
{
	size_t len = (size_t)mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		printf("mmap %ld MiB: %s\n", mib, strerrorname_np(errno));
		return 1;
	}
	memset(p, 1, len);
	printf("mmap %ld MiB: ok\n", mib);
	munmap(p, len);
	return 0;
}

static int as_later(unsigned long long bytes, long mib)
{
	int bad = rounds(1);

	fflush(stdout);
	set_limit(RLIMIT_AS, bytes);
	bad += rounds(300);
	return map_mib(mib) || bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "vm")) {
		int bad = rounds(1);
		printf("%llu\n", mapped_now());
		return bad ? 1 : 0;
	}
	if (argc > 3 && !strcmp(argv[1], "as-later"))
		return as_later(strtoull(argv[2], NULL, 10), atol(argv[3]));
	if (argc > 2 && !strcmp(argv[1], "fsize"))
		return fsize(atol(argv[2]), argc > 3 ? atoi(argv[3]) : 10);
	if (argc > 3 && !strcmp(argv[1], "fsize-later"))
		return fsize_later(atol(argv[2]), atoi(argv[3]));
	if (argc > 2 && !strcmp(argv[1], "fsize-setuid"))
		return fsize_setuid(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "as"))
		return as(atol(argv[2]));
	fprintf(stderr, "usage: limits fsize|fsize-later|fsize-setuid|as N\n");
	return 2;
}
