/* SPDX-License-Identifier: MIT */
/* Resolution of the real libc functions behind each wrapper. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "state.h"

struct st__real st__real;

/*
 * Fallbacks used only while dlsym() itself runs (a malloc replacement may
 * call back into us): the same system call, without libc in between.
 */
static int fb_socket(int d, int t, int p)
{
	return st__sys(SYS_socket, d, t, p, 0, 0, 0);
}
static int fb_socketpair(int d, int t, int p, int *sv)
{
	return st__sys(SYS_socketpair, d, t, p, (long)sv, 0, 0);
}
static int fb_bind(int fd, const struct sockaddr *a, socklen_t l)
{
	return st__sys(SYS_bind, fd, (long)a, l, 0, 0, 0);
}
static int fb_connect(int fd, const struct sockaddr *a, socklen_t l)
{
	return st__sys(SYS_connect, fd, (long)a, l, 0, 0, 0);
}
static int fb_listen(int fd, int b)
{
	return st__sys(SYS_listen, fd, b, 0, 0, 0, 0);
}
static int fb_accept4(int fd, struct sockaddr *a, socklen_t *l, int f)
{
	return st__sys(SYS_accept4, fd, (long)a, (long)l, f, 0, 0);
}
static int fb_accept(int fd, struct sockaddr *a, socklen_t *l)
{
	return fb_accept4(fd, a, l, 0);
}
static int fb_getsockopt(int fd, int lv, int o, void *v, socklen_t *l)
{
	return st__sys(SYS_getsockopt, fd, lv, o, (long)v, (long)l, 0);
}
static int fb_shutdown(int fd, int h)
{
	return st__sys(SYS_shutdown, fd, h, 0, 0, 0, 0);
}
static int fb_close(int fd)
{
	return st__sys(SYS_close, fd, 0, 0, 0, 0, 0);
}
static ssize_t fb_read(int fd, void *b, size_t n)
{
	return st__sys(SYS_read, fd, (long)b, n, 0, 0, 0);
}
static ssize_t fb___read_chk(int fd, void *b, size_t n, size_t bl)
{
	(void)bl;
	return fb_read(fd, b, n);
}
static ssize_t fb_readv(int fd, const struct iovec *v, int n)
{
	return st__sys(SYS_readv, fd, (long)v, n, 0, 0, 0);
}
static ssize_t fb_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a,
			   socklen_t *l)
{
	return st__sys(SYS_recvfrom, fd, (long)b, n, f, (long)a, (long)l);
}
static ssize_t fb_recv(int fd, void *b, size_t n, int f)
{
	return fb_recvfrom(fd, b, n, f, NULL, NULL);
}
static ssize_t fb___recv_chk(int fd, void *b, size_t n, size_t bl, int f)
{
	(void)bl;
	return fb_recv(fd, b, n, f);
}
static ssize_t fb___recvfrom_chk(int fd, void *b, size_t n, size_t bl, int f,
				 struct sockaddr *a, socklen_t *l)
{
	(void)bl;
	return fb_recvfrom(fd, b, n, f, a, l);
}
static ssize_t fb_recvmsg(int fd, struct msghdr *m, int f)
{
	return st__sys(SYS_recvmsg, fd, (long)m, f, 0, 0, 0);
}
static ssize_t fb_write(int fd, const void *b, size_t n)
{
	return st__sys(SYS_write, fd, (long)b, n, 0, 0, 0);
}
static ssize_t fb_writev(int fd, const struct iovec *v, int n)
{
	return st__sys(SYS_writev, fd, (long)v, n, 0, 0, 0);
}
static ssize_t fb_sendto(int fd, const void *b, size_t n, int f,
			 const struct sockaddr *a, socklen_t l)
{
	return st__sys(SYS_sendto, fd, (long)b, n, f, (long)a, l);
}
static ssize_t fb_send(int fd, const void *b, size_t n, int f)
{
	return fb_sendto(fd, b, n, f, NULL, 0);
}
static ssize_t fb_sendmsg(int fd, const struct msghdr *m, int f)
{
	return st__sys(SYS_sendmsg, fd, (long)m, f, 0, 0, 0);
}
static ssize_t fb_sendfile(int o, int i, off_t *off, size_t n)
{
	return st__sys(SYS_sendfile, o, i, (long)off, n, 0, 0);
}
static void fb__exit(int s)
{
	st__sys(SYS_exit_group, s, 0, 0, 0, 0, 0);
	__builtin_unreachable();
}
static int fb_dup(int fd)
{
	return st__sys(SYS_dup, fd, 0, 0, 0, 0, 0);
}
static int fb_dup3(int fd, int nfd, int f)
{
	return st__sys(SYS_dup3, fd, nfd, f, 0, 0, 0);
}
static int fb_dup2(int fd, int nfd)
{
	/* dup3 refuses fd == nfd; dup2 then only checks that fd is open */
	if (fd == nfd)
		return st__sys(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0) < 0 ? -1
								       : fd;
	return fb_dup3(fd, nfd, 0);
}
static int fb_close_range(unsigned a, unsigned b, int f)
{
	return st__sys(SYS_close_range, a, b, f, 0, 0, 0);
}
static void fb_closefrom(int fd)
{
	st__sys(SYS_close_range, fd, ~0U, 0, 0, 0, 0);
}
static int fb_fclose(FILE *f)
{
	/* no way to free a FILE without libc: report the failure */
	(void)f;
	errno = EAGAIN;
	return EOF;
}
static pid_t fb_fork(void)
{
	return st__sys(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
}
/* only while dlsym runs: these change the calling thread alone */
static int fb_setuid(uid_t u)
{
	return st__sys(SYS_setuid, u, 0, 0, 0, 0, 0);
}
static int fb_seteuid(uid_t u)
{
	return st__sys(SYS_setresuid, -1, u, -1, 0, 0, 0);
}
static int fb_setreuid(uid_t r, uid_t e)
{
	return st__sys(SYS_setreuid, r, e, 0, 0, 0, 0);
}
static int fb_setresuid(uid_t r, uid_t e, uid_t s)
{
	return st__sys(SYS_setresuid, r, e, s, 0, 0, 0);
}
static int fb_setsockopt(int fd, int lv, int o, const void *v, socklen_t l)
{
	return st__sys(SYS_setsockopt, fd, lv, o, (long)v, l, 0);
}
static int fb_sendmmsg(int fd, struct mmsghdr *v, unsigned n, int f)
{
	return st__sys(SYS_sendmmsg, fd, (long)v, n, f, 0, 0);
}
static int fb_recvmmsg(int fd, struct mmsghdr *v, unsigned n, int f,
		       struct timespec *t)
{
	return st__sys(SYS_recvmmsg, fd, (long)v, n, f, (long)t, 0);
}
static int fb_setrlimit(int r, const struct rlimit *l)
{
	return st__sys(SYS_prlimit64, 0, r, (long)l, 0, 0, 0);
}
static int fb_prlimit(pid_t p, int r, const struct rlimit *l, struct rlimit *o)
{
	return st__sys(SYS_prlimit64, p, r, (long)l, (long)o, 0, 0);
}
static int fb_prctl(int option, ...)
{
	va_list ap;
	long a[4];

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return st__sys(SYS_prctl, option, a[0], a[1], a[2], a[3], 0);
}
static int fb_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return st__sys(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
}
static long fb_syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return st__sys(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* clang-format off */
static const struct st__real fallback = {
#define ST__FB(ret, name, params, args) .name = fb_##name,
	ST_REAL_TABLE(ST__FB)
#undef ST__FB
	.fcntl = fb_fcntl,
	.prctl = fb_prctl,
	.syscall = fb_syscall,
};
/* clang-format on */

static ST_TLS int resolving;

/* Is P in this library?  Injected, a name libc lacks (an older glibc
 * without closefrom) would otherwise resolve to our own wrapper. */
static bool own(void *p)
{
	Dl_info a, b;

	return p && dladdr(p, &a) && dladdr((void *)own, &b) &&
	       a.dli_fbase == b.dli_fbase;
}

const struct st__real *st__resolve(void)
{
	if (resolving)
		return &fallback;
	resolving = 1;
	int e = errno;
	/* each pointer is stored once, atomically: racing threads agree */
#define ST__RESOLVE(ret, name, params, args)                                   \
	if (!__atomic_load_n(&st__real.name, __ATOMIC_ACQUIRE)) {              \
		void *p =                                                      \
			dlsym(st__injected ? RTLD_DEFAULT : RTLD_NEXT, #name); \
		if (st__injected && own(p))                                    \
			p = NULL;                                              \
		__atomic_store_n((void **)&st__real.name,                      \
				 p ? p : (void *)fallback.name,                \
				 __ATOMIC_RELEASE);                            \
	}
	ST_REAL_TABLE(ST__RESOLVE)
	ST__RESOLVE(int, fcntl, , )
	ST__RESOLVE(int, prctl, , )
	ST__RESOLVE(long, syscall, , )
#undef ST__RESOLVE
	errno = e;
	resolving = 0;
	return &st__real;
}
