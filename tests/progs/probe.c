/* SPDX-License-Identifier: MIT */
/* A program that makes socket calls and prints what each returned. */

/*
 * The integration suite runs each scenario with and without the preload
 * and compares the transcripts: return values, errno after every call
 * (success included: errno is set to a sentinel before each call), the
 * fds left open and the thread count.  Nothing printed depends on
 * addresses or timing, so two honest runs print the same.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#define SENTINEL 4242

static void show(const char *what, long ret)
{
	int e = errno;
	const char *n = e == SENTINEL ? "-" : strerrorname_np(e);

	printf("%-40s = %ld errno %s\n", what, ret, n ? n : "?");
	fflush(stdout);
}

/* T(expr): run expr with errno at the sentinel, print result and errno. */
#define T(expr)                         \
	({                              \
		errno = SENTINEL;       \
		long r_ = (long)(expr); \
		show(#expr, r_);        \
		r_;                     \
	})

/* An address no mapping covers: the kernel answers EFAULT.  Volatile so
 * the compiler cannot see (and warn about) what the test means to do. */
static void *volatile bad_address = (void *)16;
static volatile int minus_one = -1;

static void *bad_ptr(void)
{
	return bad_address;
}

/* Loopback listener on an ephemeral port; *port gets the port. */
static int listener(struct sockaddr_in *sa)
{
	socklen_t l = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) ||
	    listen(fd, 16) || getsockname(fd, (struct sockaddr *)sa, &l)) {
		perror("listener");
		exit(3);
	}
	return fd;
}

/* A port with nobody listening: bound, never listened, then closed. */
static struct sockaddr_in closed_port(void)
{
	struct sockaddr_in sa;
	int fd = listener(&sa);

	close(fd);
	return sa;
}

/* Open fds and thread count: what the preload must not change. */
static void footer(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[64], target[256];
	int dfd = dirfd(d);

	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dfd)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		/* inode numbers differ between runs; kinds must not */
		char *b = strchr(target, '[');
		if (b)
			*b = 0;
		printf("fd %d: %s\n", fd, target);
	}
	closedir(d);
	/* a joined thread can still be counted for a moment while the
	 * kernel finishes its exit: the lowest of a few readings */
	int threads = 0;
	for (int k = 0; k < 200; k++) {
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Threads:", 8) &&
			    (!threads || atoi(line + 8) < threads))
				threads = atoi(line + 8);
		fclose(f);
		if (threads <= 1)
			break;
		usleep(1000);
	}
	printf("Threads:\t%d\n", threads);
}

static int errors(void)
{
	struct sockaddr_in cp = closed_port();
	int s = T(socket(AF_INET, SOCK_STREAM, 0));
	char buf[16];
	struct iovec bad_iov = { bad_ptr(), 8 };
	int p[2];

	T(connect(s, (struct sockaddr *)&cp, sizeof(cp)));
	T(connect(s, (struct sockaddr *)&cp, sizeof(cp)));
	T(close(s));
	s = T(socket(AF_INET, SOCK_STREAM, 0));
	T(connect(s, bad_ptr(), sizeof(cp)));
	T(connect(s, (struct sockaddr *)&cp, 4000));
	T(bind(s, bad_ptr(), sizeof(cp)));
	T(bind(s, (struct sockaddr *)&cp, 3));
	T(accept(s, NULL, NULL));
	T(accept4(s, NULL, NULL, 12345));
	T(fcntl(s, F_SETFL, O_NONBLOCK));
	T(listen(s, -1));
	T(accept(s, bad_ptr(), bad_ptr()));
	T(getsockopt(s, SOL_SOCKET, SO_ERROR, bad_ptr(), bad_ptr()));
	T(shutdown(s, 99));
	T(shutdown(s, SHUT_RDWR));
	T(read(s, bad_ptr(), 8));
	T(recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	T(recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, bad_ptr(), bad_ptr()));
	T(readv(s, &bad_iov, 1));
	T(readv(s, bad_ptr(), 1));
	T(readv(s, &bad_iov, minus_one));
	T(write(s, bad_ptr(), 8));
	T(send(s, buf, sizeof(buf), MSG_NOSIGNAL));
	T(sendto(s, buf, 4, MSG_NOSIGNAL, bad_ptr(), sizeof(cp)));
	T(sendmsg(s, bad_ptr(), 0));
	T(recvmsg(s, bad_ptr(), 0));
	T(writev(s, bad_ptr(), 1));
	T(close(s));
	T(close(s));
	T(read(s, buf, sizeof(buf)));
	T(read(-1, buf, sizeof(buf)));
	T(write(99999, buf, 1));
	T(recv(0x7fffffff, buf, 1, 0));
	T(dup(-1));
	T(dup2(-1, 5));
	T(dup3(0, 0, 0));
	T(fcntl(-1, F_DUPFD, 0));
	T(close_range(5, 3, 0));
	T(socket(AF_INET, 99, 0));
	T(socket(12345, SOCK_STREAM, 0));
	T(socketpair(AF_INET, SOCK_STREAM, 0, p));
	T(socketpair(AF_UNIX, SOCK_STREAM, 0, bad_ptr()));
	T(pipe(p));
	T(connect(p[0], (struct sockaddr *)&cp, sizeof(cp)));
	T(recv(p[0], buf, 1, MSG_DONTWAIT));
	T(write(p[1], "x", 1));
	T(read(p[0], buf, sizeof(buf)));
	T(close(p[0]));
	T(close(p[1]));
	return 0;
}

/* One connection through every data call, both ends in this process. */
static int echo(void)
{
	struct sockaddr_in sa, peer;
	socklen_t pl = sizeof(peer);
	char buf[64];
	int l = T(listener(&sa));
	int c = T(socket(AF_INET, SOCK_STREAM, 0));
	T(connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	int s = T(accept(l, (struct sockaddr *)&peer, &pl));
	T(write(c, "hello", 5));
	T(read(s, buf, sizeof(buf)));
	T(send(s, "world!", 6, 0));
	T(recv(c, buf, sizeof(buf), 0));
	struct iovec iv[2] = { { "ab", 2 }, { "cde", 3 } };
	T(writev(c, iv, 2));
	struct iovec rv[2] = { { buf, 1 }, { buf + 1, 10 } };
	T(readv(s, rv, 2));
	T(sendto(s, "xyz", 3, 0, NULL, 0));
	T(recvfrom(c, buf, sizeof(buf), 0, NULL, NULL));
	struct msghdr m = { .msg_iov = iv, .msg_iovlen = 2 };
	T(sendmsg(c, &m, 0));
	struct msghdr rm = { .msg_iov = rv, .msg_iovlen = 2 };
	T(recvmsg(s, &rm, 0));
	int err = -1;
	socklen_t el = sizeof(err);
	T(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el));
	printf("SO_ERROR value %d\n", err);
	int d = T(dup(s));
	T(write(d, "via dup", 7));
	T(read(c, buf, sizeof(buf)));
	int d2 = T(fcntl(s, F_DUPFD_CLOEXEC, 50));
	T(dup2(c, 60));
	T(dup3(c, 61, O_CLOEXEC));
	T(close(60));
	T(close(61));
	T(shutdown(c, SHUT_WR));
	T(read(s, buf, sizeof(buf)));
	T(close(d));
	T(close(d2));
	T(close(s));
	T(read(c, buf, sizeof(buf)));
	FILE *f = fdopen(c, "r+");
	T(fclose(f));
	int sp[2];
	T(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	T(write(sp[0], "u", 1));
	T(read(sp[1], buf, sizeof(buf)));
	int c2 = T(socket(AF_INET, SOCK_STREAM, 0));
	T(connect(c2, (struct sockaddr *)&sa, sizeof(sa)));
	struct sockaddr_in cl = { 0 };
	T(accept4(l, (struct sockaddr *)&cl, &pl, SOCK_NONBLOCK));
	T(close(c2));
	T(close_range(sp[0], sp[1], 0));
	T(close(l));
	return 0;
}

/* Non-blocking connect to a closed port, the way curl does it. */
static int nonblock(void)
{
	struct sockaddr_in cp = closed_port();
	int s = T(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	T(connect(s, (struct sockaddr *)&cp, sizeof(cp)));
	struct pollfd pfd = { s, POLLOUT, 0 };
	T(poll(&pfd, 1, 5000));
	int err = 0;
	socklen_t el = sizeof(err);
	T(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	printf("SO_ERROR value %s\n", strerrorname_np(err));
	T(close(s));
	return 0;
}

/*
 * Options and what close finds: options set (one refused, one from a bad
 * address), O_NONBLOCK on and off, then a server end closed with bytes
 * it never read, which makes the kernel reset the connection: the
 * client's read then fails with ECONNRESET.
 */
static int sockopts(void)
{
	struct sockaddr_in sa;
	int one = 1, big = 65536, bad = 12345;
	struct linger lg = { 1, 0 };
	char buf[64] = "unread bytes";
	int l = listener(&sa);
	int s = T(socket(AF_INET, SOCK_STREAM, 0));

	T(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	T(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	T(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	T(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)));
	T(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)));
	T(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	T(setsockopt(s, SOL_SOCKET, bad, &one, sizeof(one)));
	T(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, bad_ptr(), sizeof(one)));
	T(setsockopt(minus_one, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	int fl = T(fcntl(s, F_GETFL));
	T(fcntl(s, F_SETFL, fl | O_NONBLOCK));
	T(fcntl(s, F_SETFL, fl));
	T(fcntl(s, F_SETFL, -1L));
	T(connect(s, (struct sockaddr *)&sa, sizeof(sa)));
	int a = T(accept(l, NULL, NULL));
	T(write(s, buf, 12));
	usleep(100000); /* the bytes reach the server's receive queue */
	T(close(a));
	T(read(s, buf, sizeof(buf)));
	T(close(s));
	T(close(l));
	return 0;
}

struct worker {
	int fd[2];
	int calls;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char c = 'x';

	/* calls alternate send and recv: every one is recorded */
	for (int i = 0; i < w->calls / 2; i++) {
		if (write(w->fd[0], &c, 1) != 1 || read(w->fd[1], &c, 1) != 1)
			abort();
	}
	return NULL;
}

/* N threads, each making M recorded calls on its own socket pair. */
static int threads(int n, int m)
{
	pthread_t t[64];
	struct worker w[64];

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, w[i].fd))
			abort();
		w[i].calls = m;
	}
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, work, &w[i]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < n; i++) {
		close(w[i].fd[0]);
		close(w[i].fd[1]);
	}
	printf("threads done\n");
	return 0;
}

static int sig_pair[2];
static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	int e = errno;
	(void)sig;
	/* socket calls inside a handler: must be recorded and harmless */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	close(s);
	if (write(sig_pair[0], "s", 1) != 1)
		abort();
	handled++;
	errno = e;
}

static int signals(int n)
{
	char c;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sig_pair);
	signal(SIGUSR1, on_signal);
	for (int i = 0; i < n; i++) {
		raise(SIGUSR1);
		if (read(sig_pair[1], &c, 1) != 1)
			abort();
	}
	printf("handled %d\n", (int)handled);
	return 0;
}

static volatile sig_atomic_t ticks;
static int async_n;

/* SIGALRM from a fast timer: lands anywhere, inside our wrappers too. */
static void on_alarm(int sig)
{
	int e = errno;
	(void)sig;
	if (ticks < async_n) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		close(s);
		ticks++;
	}
	errno = e;
}

/* Data calls on a socket pair while N timer signals make and close
 * sockets in their handler. */
static int async_signals(int n)
{
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	struct sigaction sa = { .sa_handler = on_alarm,
				.sa_flags = SA_RESTART };
	int sp[2];
	char c = 'x';

	async_n = n;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (ticks < n)
		if (write(sp[0], &c, 1) != 1 || read(sp[1], &c, 1) != 1)
			abort();
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	close(sp[0]);
	close(sp[1]);
	printf("handled %d\n", (int)ticks);
	return 0;
}

/* A daemon-like program: closes every fd, dup2s over numbers. */
static int closeall(void)
{
	struct sockaddr_in sa;
	char buf[8];
	int l = listener(&sa);
	int c = T(socket(AF_INET, SOCK_STREAM, 0));
	T(connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	T(close_range(3, ~0U, 0));
	T(write(c, "x", 1));
	l = T(listener(&sa));
	c = T(socket(AF_INET, SOCK_STREAM, 0));
	T(dup2(c, 100));
	T(dup2(l, 100));
	T(dup2(c, 200));
	T(connect(200, (struct sockaddr *)&sa, sizeof(sa)));
	int s = T(accept(100, NULL, NULL));
	T(write(200, "y", 1));
	T(read(s, buf, sizeof(buf)));
	int nul = open("/dev/null", O_RDWR);
	T(dup2(nul, s));
	T(read(s, buf, sizeof(buf)));
	closefrom(3);
	printf("closefrom done\n");
	c = T(socket(AF_INET, SOCK_STREAM, 0));
	T(close(c));
	return 0;
}

static int forks(void)
{
	int sp[2];
	char buf[8];

	T(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	pid_t pid = fork();
	if (pid == 0) {
		/* the child writes on the inherited socket, in its own trace */
		if (write(sp[1], "child", 5) != 5)
			_exit(1);
		close(sp[1]);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	T(read(sp[0], buf, sizeof(buf)));
	printf("child status %d\n", st);
	T(close(sp[0]));
	T(close(sp[1]));
	return 0;
}

/*
 * N children, all alive at once, each connect to the parent's listener
 * and send their number; the parent accepts and sums them.
 */
static int many_forks(int n)
{
	struct sockaddr_in sa;
	int l = listener(&sa);
	long sum = 0, want = 0;

	listen(l, n + 16); /* room for every child: no SYN drops */
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int c = socket(AF_INET, SOCK_STREAM, 0);
			char msg[16];
			int len = snprintf(msg, sizeof(msg), "%d", i + 1);
			if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) ||
			    write(c, msg, len) != len)
				_exit(1);
			close(c);
			exit(0);
		}
		want += i + 1;
	}
	for (int i = 0; i < n; i++) {
		char buf[16] = "";
		int s = accept(l, NULL, NULL);
		char eof;
		/* the number, then EOF: the child closes first */
		if (s < 0 || read(s, buf, sizeof(buf) - 1) <= 0 ||
		    read(s, &eof, 1) != 0)
			abort();
		sum += atol(buf);
		close(s);
	}
	int ok = 0, st;
	while (wait(&st) > 0)
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("%d children exited 0, sum %ld of %ld\n", ok, sum, want);
	close(l);
	return ok == n && sum == want ? 0 : 1;
}

/* N calls, then a pause until a byte arrives on stdin, then M calls. */
static int paused(int n, int m)
{
	int sp[2];
	char c = 'x';

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		abort();
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < (k ? m : n) / 2; i++)
			if (write(sp[0], &c, 1) != 1 || read(sp[1], &c, 1) != 1)
				abort();
		printf("%s\n", k ? "done" : "paused");
		fflush(stdout);
		if (!k && read(0, &c, 1) != 1)
			abort();
	}
	close(sp[0]);
	close(sp[1]);
	return 0;
}

/* One short connection of a thread: a socket pair, a byte each way. */
static void *pair_once(void *arg)
{
	int sp[2];
	char c = 'x';

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) ||
	    write(sp[0], &c, 1) != 1 || read(sp[1], &c, 1) != 1 ||
	    write(sp[1], &c, 1) != 1 || read(sp[0], &c, 1) != 1)
		abort();
	close(sp[0]);
	close(sp[1]);
	return NULL;
}

/* N threads alive at once, each with its own connection. */
static int many_threads(int n)
{
	pthread_t *t = calloc(n, sizeof(*t));
	pthread_attr_t a;
	int started = 0;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (int i = 0; i < n; i++)
		started += pthread_create(&t[i], &a, pair_once, NULL) == 0;
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	printf("%d threads of %d ran\n", started, n);
	free(t);
	return started == n ? 0 : 1;
}

/*
 * vfork: the child shares the parent's memory, closes its copy of a
 * socket and execs; with CLEAR, the exec'd program gets an environment
 * without LD_PRELOAD (it runs untraced and must still work).
 */
static int vforks(const char *self, bool clear)
{
	int sp[2];
	char buf[8];
	char *env_clear[] = { "PATH=/usr/bin:/bin", NULL };
	extern char **environ;

	T(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	fflush(stdout);
	errno = SENTINEL;
	pid_t pid = vfork();
	if (pid < 0) { /* e.g. RLIMIT_NPROC: the error must be the same */
		show("vfork()", pid);
		return 1;
	}
	if (pid == 0) {
		close(sp[0]);
		char *argv[] = { (char *)self, "after-exec", NULL };
		execve(self, argv, clear ? env_clear : environ);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child status %d\n", st);
	T(write(sp[1], "x", 1));
	T(read(sp[0], buf, sizeof(buf)));
	T(close(sp[0]));
	T(close(sp[1]));
	return 0;
}

/* Writes SIZE bytes on a new connection to Unix path PATH, then closes. */
static void unix_send(const char *path, int fd, int size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[256];

	memset(buf, 'u', sizeof(buf));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, buf, (size_t)size) != size)
		_exit(1);
}

/* An untraced client (LD_PRELOAD cleared): 99 bytes to PATH. */
static int unix_client(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	unix_send(path, fd, 99);
	close(fd);
	return 0;
}

static int by_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * Unix stream clients look alike (no address): one untraced process
 * opens a connection to a path, then two traced children open two each.
 * Each connection carries its own byte count, so a viewer joining ends
 * wrongly shows unequal counts on the two ends.
 */
static int unix_clients(const char *self)
{
	char dir[] = "/tmp/probe-unix-XXXXXX", path[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int got[5], n = 0;

	if (!mkdtemp(dir))
		return 3;
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int l = T(socket(AF_UNIX, SOCK_STREAM, 0));
	T(bind(l, (struct sockaddr *)&sa, sizeof(sa)));
	T(listen(l, 16));
	/* the untraced one first: it heads the accept queue */
	pid_t u = fork();
	if (u == 0) {
		char *env[] = { "PATH=/usr/bin:/bin", NULL };
		execle(self, self, "unix-client", path, (char *)NULL, env);
		_exit(1);
	}
	waitpid(u, NULL, 0);
	for (int i = 0; i < 2; i++) {
		if (fork() == 0) {
			/* both connected before either sends: queued together
			 */
			int a = socket(AF_UNIX, SOCK_STREAM, 0);
			int b = socket(AF_UNIX, SOCK_STREAM, 0);
			unix_send(path, a, 10 * (2 * i + 1));
			unix_send(path, b, 10 * (2 * i + 2));
			close(b);
			close(a);
			_exit(0);
		}
	}
	for (int i = 0; i < 5; i++) {
		int c = accept(l, NULL, NULL);
		char buf[256];
		ssize_t r;
		got[n] = 0;
		while ((r = read(c, buf, sizeof(buf))) > 0)
			got[n] += (int)r;
		close(c);
		n++;
	}
	while (wait(NULL) > 0)
		;
	qsort(got, (size_t)n, sizeof(got[0]), by_int);
	printf("unix: got");
	for (int i = 0; i < n; i++)
		printf(" %d", got[i]);
	printf("\n");
	T(close(l));
	unlink(path);
	rmdir(dir);
	return 0;
}

/*
 * A child drops root the ways servers do, with sockets made after each
 * drop: they must be recorded although the new user cannot reach root's
 * trace directory.
 */
static void udp_once(void)
{
	int s = T(socket(AF_INET, SOCK_DGRAM, 0));
	T(close(s));
}

static int drop_user(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* no socket call before the first drop: no trace file yet */
		T(setresuid(-1, 65534, 0));
		udp_once();
		T(seteuid(0));
		T(setreuid(-1, 65534));
		udp_once();
		T(seteuid(0));
		T(setuid(65534));
		udp_once();
		T(seteuid(0)); /* EPERM: no way back */
		/* more records than the file's first chunk holds */
		int bad = 0;
		for (int i = 0; i < 5000; i++) {
			int u = socket(AF_INET, SOCK_DGRAM, 0);
			bad += u < 0 || close(u) != 0;
		}
		printf("failed: %d\n", bad);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child status %d\n", st);
	return 0;
}

static int execs(const char *self)
{
	int s = T(socket(AF_INET, SOCK_DGRAM, 0));
	T(close(s));
	fflush(stdout);
	execl(self, self, "after-exec", (char *)NULL);
	perror("execl");
	return 1;
}

static int after_exec(void)
{
	int s = T(socket(AF_INET6, SOCK_DGRAM, 0));
	T(close(s));
	return 0;
}

/* Makes recorded calls, then dies without any chance to clean up. */
static int killed(void)
{
	struct sockaddr_in sa;
	int l = listener(&sa);
	int c = socket(AF_INET, SOCK_STREAM, 0);

	connect(c, (struct sockaddr *)&sa, sizeof(sa));
	int s = accept(l, NULL, NULL);
	if (write(c, "x", 1) != 1)
		abort();
	(void)s;
	printf("about to die\n");
	fflush(stdout);
	raise(SIGKILL);
	return 0;
}

/* Writes to a connection its peer closed, with SIGPIPE's default
 * action: the RST answers the first write, the next one kills. */
static int sigpipe_death(void)
{
	struct sockaddr_in sa;
	int l = listener(&sa);
	int c = socket(AF_INET, SOCK_STREAM, 0);

	signal(SIGPIPE, SIG_DFL);
	connect(c, (struct sockaddr *)&sa, sizeof(sa));
	close(accept(l, NULL, NULL));
	printf("writing to a closed peer\n");
	fflush(stdout);
	for (int i = 0; i < 100; i++) {
		if (write(c, "x", 1) < 0)
			perror("write"); /* not reached: SIGPIPE kills */
		usleep(20000);
	}
	return 0;
}

/* Loads the library with dlopen and calls its socket(): as a setuid
 * program, it must not trace (and so write no file). */
static int secure(const char *lib)
{
	void *h = dlopen(lib, RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	int (*sock)(int, int, int) = (int (*)(int, int, int))dlsym(h, "socket");
	int (*cl)(int) = (int (*)(int))dlsym(h, "close");
	int s = sock(AF_INET, SOCK_STREAM, 0);
	printf("socket via library: %s\n", s >= 0 ? "ok" : "failed");
	cl(s);
	return 0;
}

/* A fortified read: with a known buffer size and a run-time length, the
 * compiler calls __read_chk and __recv_chk. */
static int fortified(int n)
{
	char buf[32];
	int sp[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	T(write(sp[0], "fortified", 9));
	T(read(sp[1], buf, n));
	T(write(sp[0], "again", 5));
	T(recv(sp[1], buf, n, 0));
	T(write(sp[0], "and", 3));
	T(recvfrom(sp[1], buf, n, 0, NULL, NULL));
	close(sp[0]);
	close(sp[1]);
	return 0;
}

/*
 * With PROBE_EARLY=1, socket calls run from .preinit_array: before every
 * shared library's constructor, libsocktrace.so's included.  Results are
 * printed later, when stdio is surely usable.
 */
static long early_ret[3];
static int early_err[3];
static bool early_ran;

static void early(int argc, char **argv, char **envp)
{
	(void)argc;
	(void)argv;
	for (char **e = envp; *e; e++)
		if (!strcmp(*e, "PROBE_EARLY=1"))
			early_ran = true;
	if (!early_ran)
		return;
	int sp[2];
	early_ret[0] = socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	early_err[0] = errno;
	early_ret[1] = write(sp[0], "early", 5);
	early_err[1] = errno;
	early_ret[2] = close(sp[0]) + close(sp[1]);
	early_err[2] = errno;
}

__attribute__((section(".preinit_array"),
	       used)) static void (*early_fn)(int, char **, char **) = early;

int main(int argc, char **argv)
{
	if (early_ran)
		printf("early: %ld %ld %ld\n", early_ret[0], early_ret[1],
		       early_ret[2]);
	int rc = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: probe SCENARIO [ARGS]\n");
		return 2;
	}
	const char *s = argv[1];
	/* EPIPE, not death, for writes on shut-down sockets */
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(s, "errors"))
		rc = errors();
	else if (!strcmp(s, "echo"))
		rc = echo();
	else if (!strcmp(s, "sigpipe"))
		rc = sigpipe_death();
	else if (!strcmp(s, "nonblock"))
		rc = nonblock();
	else if (!strcmp(s, "sockopts"))
		rc = sockopts();
	else if (!strcmp(s, "threads"))
		rc = threads(argc > 2 ? atoi(argv[2]) : 8,
			     argc > 3 ? atoi(argv[3]) : 10000);
	else if (!strcmp(s, "signals"))
		rc = signals(argc > 2 ? atoi(argv[2]) : 1000);
	else if (!strcmp(s, "async-signals"))
		rc = async_signals(argc > 2 ? atoi(argv[2]) : 2000);
	else if (!strcmp(s, "closeall"))
		rc = closeall();
	else if (!strcmp(s, "fork"))
		rc = forks();
	else if (!strcmp(s, "forks"))
		rc = many_forks(argc > 2 ? atoi(argv[2]) : 100);
	else if (!strcmp(s, "manythreads"))
		rc = many_threads(argc > 2 ? atoi(argv[2]) : 1000);
	else if (!strcmp(s, "pause") && argc > 3)
		rc = paused(atoi(argv[2]), atoi(argv[3]));
	else if (!strcmp(s, "vfork"))
		rc = vforks("/proc/self/exe", false);
	else if (!strcmp(s, "vfork-clearenv"))
		rc = vforks("/proc/self/exe", true);
	else if (!strcmp(s, "exec"))
		rc = execs("/proc/self/exe");
	else if (!strcmp(s, "after-exec"))
		rc = after_exec();
	else if (!strcmp(s, "unix"))
		rc = unix_clients("/proc/self/exe");
	else if (!strcmp(s, "unix-client") && argc > 2)
		return unix_client(argv[2]);
	else if (!strcmp(s, "setuid"))
		rc = drop_user();
	else if (!strcmp(s, "kill"))
		rc = killed();
	else if (!strcmp(s, "secure") && argc > 2)
		rc = secure(argv[2]);
	else if (!strcmp(s, "fortify"))
		rc = fortified(argc > 2 ? atoi(argv[2]) : 16);
	else
		fprintf(stderr, "probe: unknown scenario %s\n", s);
	footer();
	return rc;
}
