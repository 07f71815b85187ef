/* SPDX-License-Identifier: MIT */
/* Start-up of the preload library: configuration, enabling, fork, exit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "socktrace/dir.h"

int st__state = ST_OFF_INIT;
bool st__injected;
bool st__attached;
struct st__config st__cfg;
int32_t st__pid;

ST_TLS int st__vforked; /* see internal.h */
ST_TLS int32_t st__tls_tid;

int32_t st__tid_slow(void)
{
	st__tls_tid = (int32_t)st__sys(SYS_gettid, 0, 0, 0, 0, 0, 0);
	return st__tls_tid;
}

void st__debug(const char *msg, int err)
{
	char buf[256];
	size_t n = 0;

	if (!st__cfg.debug)
		return;
	const char *parts[] = { "socktrace: ", msg, err ? ": " : "",
				err ? strerrordesc_np(err) : "", "\n" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *p = parts[i] ? parts[i] : "?";
		size_t l = strlen(p);
		if (l > sizeof(buf) - n)
			l = sizeof(buf) - n;
		memcpy(buf + n, p, l);
		n += l;
	}
	st__sys(SYS_write, 2, (long)buf, (long)n, 0, 0, 0);
}

/*
 * getenv() that also works before libc has set environ up: a program's
 * .preinit_array or an earlier library's constructor may call a wrapper
 * first.  Then the environment is read from /proc/self/environ.
 */
static char *env_get(const char *name)
{
	extern char **environ;
	static char buf[1 << 16];
	static long len = -1;

	if (environ)
		return getenv(name);
	if (len < 0) {
		long fd = st__sys(SYS_openat, AT_FDCWD,
				  (long)"/proc/self/environ",
				  O_RDONLY | O_CLOEXEC, 0, 0, 0);
		len = 0;
		if (fd >= 0) {
			long n;
			while (len < (long)sizeof(buf) - 1 &&
			       (n = st__sys(SYS_read, fd, (long)(buf + len),
					    sizeof(buf) - 1 - len, 0, 0, 0)) > 0)
				len += n;
			st__sys(SYS_close, fd, 0, 0, 0, 0, 0);
		}
		buf[len] = 0;
	}
	size_t nl = strlen(name);
	for (char *p = buf; p < buf + len; p += strlen(p) + 1)
		if (!strncmp(p, name, nl) && p[nl] == '=')
			return p + nl + 1;
	return NULL;
}

/* Parses "64M", "1G", "100000" into bytes; 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	return end == s || *end ? 0 : v;
}

static void read_config(void)
{
	const char *v;

	st__cfg.debug = (v = env_get("SOCKTRACE_DEBUG")) && *v && *v != '0';
	st__cfg.max_size = 64ull << 20;
	if ((v = env_get("SOCKTRACE_MAX_SIZE")) && *v) {
		uint64_t s = parse_size(v);
		if (s)
			st__cfg.max_size = s;
		else
			st__debug("SOCKTRACE_MAX_SIZE is not a size, using 64M",
				  0);
	}
	st__cfg.policy = ST_POLICY_RING;
	if ((v = env_get("SOCKTRACE_FULL")) && *v) {
		if (!strcmp(v, "stop"))
			st__cfg.policy = ST_POLICY_STOP;
		else if (strcmp(v, "ring"))
			st__debug("SOCKTRACE_FULL is not ring or stop, "
				  "using ring", 0);
	}
	/* TCP_INFO at each close and accept costs a system call each */
	st__cfg.tcp_info = !((v = env_get("SOCKTRACE_TCP_INFO")) && *v == '0');
	st_trace_dir(st__cfg.dir, sizeof(st__cfg.dir), env_get);
}

static void after_fork_child(void)
{
	st__tls_tid = 0;
	st__pid = (int32_t)st__sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	st__writer_after_fork();
}

static void at_exit(void)
{
	st__writer_exit();
}

/* Fork and exit hooks, registered once (start-up, or the first attach). */
static int hooks(void)
{
	static bool done;

	if (done)
		return 0;
	if (pthread_atfork(NULL, NULL, after_fork_child) || atexit(at_exit))
		return -ENOMEM;
	done = true;
	return 0;
}

bool st__init_slow(void)
{
	int expect = ST_OFF_INIT;

	/* one thread initialises; the others pass through meanwhile */
	if (!__atomic_compare_exchange_n(&st__state, &expect, ST_BUSY_INIT,
					 false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	int e = errno;
	int next = ST_ON;
	read_config();
	st__pid = (int32_t)st__sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	if (getauxval(AT_SECURE)) {
		/* setuid/setgid/capabilities: never write files for them */
		st__debug("secure execution (setuid or capabilities): "
			  "tracing disabled", 0);
		next = ST_OFF;
	} else {
		st__clock_init();
		st__resolve();
		if (hooks())
			next = ST_OFF;
	}
	__atomic_store_n(&st__state, next, __ATOMIC_RELEASE);
	errno = e;
	return next == ST_ON;
}

ST_EXPORT int socktrace_attach_init(const char *dir, uint64_t lease_ns);

/*
 * Preloaded (or linked in), we are in the program's global scope; loaded
 * by socktrace attach with dlopen, we are not: then nothing calls our
 * wrappers until socktrace_attach_init redirects calls to them.
 */
static bool in_global_scope(void)
{
	void *prog = dlopen(NULL, RTLD_LAZY);
	bool in = prog && dlsym(prog, "socktrace_attach_init") ==
				  (void *)socktrace_attach_init;

	if (prog)
		dlclose(prog);
	return in;
}

int st__attach_start(const char *dir)
{
	if (!st__injected)
		return -EEXIST; /* preloaded: it records already */
	/* wrappers pass calls through while this runs (state is not ON) */
	read_config();
	st__pid = (int32_t)st__sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	st__resolve();
	int rc = hooks();
	if (rc)
		return rc;
	snprintf(st__cfg.dir, sizeof(st__cfg.dir), "%s", dir);
	st__fd_reset();
	st__attached = true;
	return 0;
}

__attribute__((constructor)) static void st_init(void)
{
	if (__atomic_load_n(&st__state, __ATOMIC_RELAXED) != ST_OFF_INIT)
		return;
	/* loaded by dlopen: idle until attach (or until the program that
	 * loaded us calls a wrapper itself) */
	if (!in_global_scope()) {
		st__injected = true;
		return;
	}
	st__init_slow();
}
