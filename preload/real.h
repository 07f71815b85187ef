/* SPDX-License-Identifier: MIT */
/* The real libc functions behind the wrappers (real.c). */
#ifndef ST_PRELOAD_REAL_H
#define ST_PRELOAD_REAL_H

#include <sys/resource.h>

#include "base.h"

/*
 * Real functions (real.c), resolved with dlsym(RTLD_NEXT) once.  R(ret, name,
 * params, args) per interposed libc function.  A call made while resolution is
 * still under way (dlsym calling back into us) goes to a raw-syscall
 * fallback of the same meaning.
 */
#define ST_REAL_TABLE(R)                                                       \
	R(int, socket, (int d, int t, int p), (d, t, p))                       \
	R(int, socketpair, (int d, int t, int p, int *sv), (d, t, p, sv))      \
	R(int, bind, (int fd, const struct sockaddr *a, socklen_t l),          \
	  (fd, a, l))                                                          \
	R(int, connect, (int fd, const struct sockaddr *a, socklen_t l),       \
	  (fd, a, l))                                                          \
	R(int, listen, (int fd, int b), (fd, b))                               \
	R(int, accept, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l)) \
	R(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int f),     \
	  (fd, a, l, f))                                                       \
	R(int, getsockopt, (int fd, int lv, int o, void *v, socklen_t *l),     \
	  (fd, lv, o, v, l))                                                   \
	R(int, shutdown, (int fd, int h), (fd, h))                             \
	R(int, close, (int fd), (fd))                                          \
	R(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))              \
	R(ssize_t, __read_chk, (int fd, void *b, size_t n, size_t bl),         \
	  (fd, b, n, bl))                                                      \
	R(ssize_t, readv, (int fd, const struct iovec *v, int n), (fd, v, n))  \
	R(ssize_t, recv, (int fd, void *b, size_t n, int f), (fd, b, n, f))    \
	R(ssize_t, __recv_chk, (int fd, void *b, size_t n, size_t bl, int f),  \
	  (fd, b, n, bl, f))                                                   \
	R(ssize_t, recvfrom,                                                   \
	  (int fd, void *b, size_t n, int f, struct sockaddr *a,               \
	   socklen_t *l),                                                      \
	  (fd, b, n, f, a, l))                                                 \
	R(ssize_t, __recvfrom_chk,                                             \
	  (int fd, void *b, size_t n, size_t bl, int f, struct sockaddr *a,    \
	   socklen_t *l),                                                      \
	  (fd, b, n, bl, f, a, l))                                             \
	R(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f))     \
	R(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))       \
	R(ssize_t, writev, (int fd, const struct iovec *v, int n), (fd, v, n)) \
	R(ssize_t, send, (int fd, const void *b, size_t n, int f),             \
	  (fd, b, n, f))                                                       \
	R(ssize_t, sendto,                                                     \
	  (int fd, const void *b, size_t n, int f, const struct sockaddr *a,   \
	   socklen_t l),                                                       \
	  (fd, b, n, f, a, l))                                                 \
	R(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f),           \
	  (fd, m, f))                                                          \
	R(ssize_t, sendfile, (int o, int i, off_t *off, size_t n),             \
	  (o, i, off, n))                                                      \
	R(int, dup, (int fd), (fd))                                            \
	R(int, dup2, (int fd, int nfd), (fd, nfd))                             \
	R(int, dup3, (int fd, int nfd, int f), (fd, nfd, f))                   \
	R(int, close_range, (unsigned a, unsigned b, int f), (a, b, f))        \
	R(void, closefrom, (int fd), (fd))                                     \
	R(int, fclose, (FILE * f), (f))                                        \
	R(pid_t, fork, (void), ())                                             \
	R(void, _exit, (int s), (s))                                           \
	R(int, setuid, (uid_t u), (u))                                         \
	R(int, seteuid, (uid_t u), (u))                                        \
	R(int, setreuid, (uid_t r, uid_t e), (r, e))                           \
	R(int, setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))              \
	R(int, setsockopt,                                                     \
	  (int fd, int lv, int o, const void *v, socklen_t l),                 \
	  (fd, lv, o, v, l))                                                   \
	R(int, sendmmsg, (int fd, struct mmsghdr *v, unsigned n, int f),       \
	  (fd, v, n, f))                                                       \
	R(int, recvmmsg,                                                       \
	  (int fd, struct mmsghdr *v, unsigned n, int f, struct timespec *t),  \
	  (fd, v, n, f, t))                                                    \
	R(int, setrlimit, (int r, const struct rlimit *l), (r, l))             \
	R(int, prlimit,                                                        \
	  (pid_t p, int r, const struct rlimit *l, struct rlimit *o),          \
	  (p, r, l, o))

struct st__real {
#define ST__PTR(ret, name, params, args) ret(*name) params;
	ST_REAL_TABLE(ST__PTR)
#undef ST__PTR
	/* variadic, so outside the table */
	int (*fcntl)(int fd, int cmd, ...);
	int (*prctl)(int option, ...);
	long (*syscall)(long nr, ...);
};
extern struct st__real st__real;

/* The real function NAME: resolved, or its fallback during resolution. */
#define REAL(name) \
	(likely(st__real.name != NULL) ? st__real.name : st__resolve()->name)

/* Resolves every real function once; never returns NULL pointers. */
const struct st__real *st__resolve(void);

#endif
