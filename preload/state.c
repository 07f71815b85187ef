/* SPDX-License-Identifier: MIT */
/* Process-wide state: tracing on/off, identity, configuration, debug. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "state.h"
#include "socktrace/dir.h"

/*
 * The bottom of the library: every other file reads these, and this file
 * calls nothing of theirs, so start-up (init.c) depends on it rather than
 * the whole library on start-up.
 */
int st__state = ST_OFF_INIT;
bool st__injected;
bool st__attached;
struct st__config st__cfg;
int32_t st__pid;

ST_TLS int st__vforked; /* see state.h */
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
		while (fd >= 0 && len < (long)sizeof(buf) - 1) {
			long n = st__sys(SYS_read, fd, (long)(buf + len),
					 sizeof(buf) - 1 - len, 0, 0, 0);
			if (n <= 0)
				break;
			len += n;
		}
		if (fd >= 0)
			st__sys(SYS_close, fd, 0, 0, 0, 0, 0);
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
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	return end == s || *end ? 0 : v;
}

void st__config_read(void)
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
				  "using ring",
				  0);
	}
	/* TCP_INFO at each close and accept costs a system call each */
	st__cfg.tcp_info = !((v = env_get("SOCKTRACE_TCP_INFO")) && *v == '0');
	st_trace_dir(st__cfg.dir, sizeof(st__cfg.dir), env_get);
}
