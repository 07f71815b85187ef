/* SPDX-License-Identifier: MIT */
/* Internal interfaces of libsocktrace.so shared by its source files. */
#ifndef ST_PRELOAD_INTERNAL_H
#define ST_PRELOAD_INTERNAL_H

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "socktrace/format.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ST_TLS	    __thread __attribute__((tls_model("initial-exec")))

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
	R(int, setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))

struct st__real {
#define ST__PTR(ret, name, params, args) ret(*name) params;
	ST_REAL_TABLE(ST__PTR)
#undef ST__PTR
	/* variadic, so outside the table */
	int (*fcntl)(int fd, int cmd, ...);
	long (*syscall)(long nr, ...);
};
extern struct st__real st__real;

/*
 * Every libc name the library exports, one X(name) row each: the names a
 * program's calls reach the wrappers by.  A wrapper is defined with
 * ST_EXPORT(name), which does not compile for a name missing here; a
 * second name of a wrapper (glibc's 64-bit variants) is made an alias of
 * it with ST_ALIAS.  attach.c redirects exactly these names in the GOTs
 * of a running process.
 */
#ifdef __x86_64__
#define ST__VFORK(X) X(vfork) /* wrap_fork.c's assembly */
#else
#define ST__VFORK(X)
#endif
/* syscall(3) is wrapped where st__sys can do without it (below) */
#if defined(__x86_64__) || defined(__aarch64__)
#define ST__SYSCALL(X) X(syscall) /* wrap_syscall.c */
#else
#define ST__SYSCALL(X)
#endif
/* clang-format off */
#define ST_EXPORT_TABLE(X)						\
	X(socket) X(socketpair) X(bind) X(connect) X(listen)		\
	X(accept) X(accept4) X(getsockopt) X(shutdown)			\
	X(close) X(fclose) X(close_range) X(closefrom)			\
	X(read) X(__read_chk) X(readv) X(recv) X(__recv_chk)		\
	X(recvfrom) X(__recvfrom_chk) X(recvmsg)			\
	X(write) X(writev) X(send) X(sendto) X(sendmsg)			\
	X(sendfile) X(sendfile64)					\
	X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64)			\
	X(fork) ST__VFORK(X) X(_exit) X(_Exit)				\
	X(setuid) X(seteuid) X(setreuid) X(setresuid)			\
	ST__SYSCALL(X)
/* clang-format on */

/* An index per exported name: ST__X_read, ..., and their count. */
#define ST__INDEX(name) ST__X_##name,
enum st__export { ST_EXPORT_TABLE(ST__INDEX) ST__NEXPORT };
#undef ST__INDEX

/* Default visibility for the wrapper of NAME, a row of ST_EXPORT_TABLE. */
#define ST_EXPORT(name)                                                   \
	_Static_assert(ST__X_##name < ST__NEXPORT, #name " is exported"); \
	__attribute__((visibility("default")))

/* Exports NAME, a row of ST_EXPORT_TABLE, as another name of WRAPPER
 * (defined in the same file: the same function, at the same address). */
#define ST_ALIAS(name, wrapper) \
	ST_EXPORT(name)         \
	extern __typeof__(wrapper) name __attribute__((alias(#wrapper)))

/* The library's own entry points (attach.c), exported as they are. */
#define ST_API __attribute__((visibility("default")))

/* The real function NAME: resolved, or its fallback during resolution. */
#define REAL(name) \
	(likely(st__real.name != NULL) ? st__real.name : st__resolve()->name)

/* Resolves every real function once; never returns NULL pointers. */
const struct st__real *st__resolve(void);

/*
 * Raw system calls for the library's own I/O: never re-enter a wrapper.
 * Inline, so that the bottom file (state.c) needs nothing above it.
 * syscall(3) itself is wrapped (wrap_syscall.c), so on the architectures
 * where that wrapper exists the instruction is issued here; elsewhere
 * libc's syscall() is still ours to call.  Returns what syscall(3)
 * does: the result, or -1 with errno set.
 */
#if defined(__x86_64__)
#define ST_RAW_SYSCALL 1
static inline long st__sys_raw(long nr, long a, long b, long c, long d, long e,
			       long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define ST_RAW_SYSCALL 1
static inline long st__sys_raw(long nr, long a, long b, long c, long d, long e,
			       long f)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#endif

static inline long st__sys(long nr, long a, long b, long c, long d, long e,
			   long f)
{
#ifdef ST_RAW_SYSCALL
	long r = st__sys_raw(nr, a, b, c, d, e, f);

	/* the kernel returns -errno in [-4095, -1] */
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
#else
	return syscall(nr, a, b, c, d, e, f);
#endif
}

/*
 * Process-wide state (state.c, the bottom file: it uses nothing above it).
 */

/* Tracing state (st__state). */
enum { ST_OFF_INIT, ST_BUSY_INIT, ST_ON, ST_OFF };
extern int st__state;

/*
 * Set while this thread is a vfork child (wrap_fork.c): it shares the
 * parent's memory, our tables included, but has its own fds.  It records
 * nothing and changes no table until it execs or exits.
 */
extern ST_TLS int st__vforked;

/*
 * Loaded by socktrace attach (dlopen into a running process) rather
 * than preloaded: idle until socktrace_attach_init; real functions are
 * looked up in the global scope (RTLD_NEXT means nothing for an object
 * outside it); records are written only while the viewer's lease runs.
 */
extern bool st__injected;
extern bool st__attached; /* socktrace_attach_init ran at least once */

/* Configuration read from the environment. */
struct st__config {
	char dir[512];
	uint64_t max_size;
	uint32_t policy;
	bool debug;
	bool tcp_info; /* TCP_INFO per connection (SOCKTRACE_TCP_INFO) */
};
extern struct st__config st__cfg;
/* Reads SOCKTRACE_* into st__cfg; works before libc set environ up. */
void st__config_read(void);

/* Prints "socktrace: MSG[: strerror(ERR)]" on stderr if SOCKTRACE_DEBUG
 * is set; ERR 0 adds nothing.  One write(2), async-signal-safe. */
void st__debug(const char *msg, int err);

/* Process identity cached for the hot path; reset in a fork child. */
extern int32_t st__pid;
/* This thread's id, cached (0: not yet asked, or reset in a fork child). */
extern ST_TLS int32_t st__tls_tid;
/* Asks the kernel for this thread's id and caches it. */
int32_t st__tid_slow(void);
static inline int32_t st__tid(void)
{
	int32_t t = st__tls_tid;

	return likely(t != 0) ? t : st__tid_slow();
}

/*
 * Start-up (init.c).
 */

/* Initialises the library on the first call that finds it off (one
 * thread does; the others pass their calls through meanwhile); true
 * when calls are to be recorded. */
bool st__init_slow(void);
/* True when calls should be recorded; runs initialisation if needed. */
static inline bool st__on(void)
{
	int s = __atomic_load_n(&st__state, __ATOMIC_RELAXED);
	if (likely(s == ST_ON))
		return likely(!st__vforked);
	return s == ST_OFF_INIT && !st__vforked && st__init_slow();
}
/* Configuration and start-up for an attach recording into DIR (first
 * time: resolve, fork and exit hooks); fd table emptied. 0 or -errno. */
int st__attach_start(const char *dir);

/*
 * Attach (attach.c): socktrace attach, through ptrace, calls these.
 * socktrace_attach_init records into DIR from now on, for LEASE_NS
 * unless the viewer renews the lease; socktrace_detach stops and puts
 * back what attach changed.  0 or -errno.
 */
ST_API int socktrace_attach_init(const char *dir, uint64_t lease_ns);
ST_API int socktrace_detach(void);

/*
 * The trace file (writer.c).
 */

/* Makes the trace file if needed and sets its lease (attach_until);
 * 0 or -errno. */
int st__writer_attach(uint64_t until);
/* In a fork child: forgets the parent's file; the child makes its own. */
void st__writer_after_fork(void);
/* Stores the exit time in the trace file's header, if there is one. */
void st__writer_exit(void);
/* The process is about to change its effective uid: make and fully
 * allocate its trace file while it may still write in the directory. */
void st__writer_before_uid_change(void);
/* net.core.somaxconn as read once when the trace file was made. */
int32_t st__somaxconn(void);

/*
 * CLOCK_MONOTONIC ns, from the TSC when the kernel's clock is the TSC
 * (clock.c): a thread's anchor, a (TSC, ns) pair, and the rate turn a
 * TSC reading into ns.  gen is odd while the anchor moves; a signal
 * handler that finds it so, or sees it change under it, asks the kernel.
 */
struct st__tsc {
	uint64_t tsc, ns; /* the anchor */
	uint64_t mult;	  /* ns per tick, 32.32 fixed point */
	uint64_t limit;	  /* ticks the anchor is used for; 0: not yet */
	uint64_t base_tsc, base_ns; /* where the rate is measured from */
	uint32_t gen;
	uint32_t loose; /* anchors in a row read too slowly to use */
};
extern bool st__tsc_ok;
extern ST_TLS struct st__tsc st__tsc;
/* Reads /sys once: is CLOCK_MONOTONIC the TSC here? */
void st__clock_init(void);
/* CLOCK_MONOTONIC ns from the kernel; takes a new anchor when it can. */
uint64_t st__now_slow(void);

static inline uint64_t st__rdtsc(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

/* CLOCK_MONOTONIC ns: the TSC scaled by this thread's anchor, or the
 * kernel's clock while there is no usable anchor.  Signal-safe. */
static inline uint64_t st__now(void)
{
	if (likely(st__tsc_ok)) {
		struct st__tsc *k = &st__tsc;
		uint32_t g = k->gen;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		uint64_t d = st__rdtsc() - k->tsc;
		uint64_t ns =
			k->ns +
			(uint64_t)(((unsigned __int128)d * k->mult) >> 32);
		bool ok = d < k->limit;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (likely(ok && !(g & 1) && k->gen == g))
			return ns;
	}
	return st__now_slow();
}

/*
 * The fd table (fdtab.c): one 64-bit word per fd.  Bits 0-1 hold the state
 * (ST_FD_*), bits 2-3 the address family class, bits 4-5 the socket type
 * class, bits 8-63 the connection id.
 */
enum { ST_FD_UNKNOWN, ST_FD_NOTSOCK, ST_FD_SOCK };
enum { ST_FAM_OTHER, ST_FAM_INET, ST_FAM_INET6, ST_FAM_UNIX };
enum { ST_TYPE_OTHER, ST_TYPE_STREAM, ST_TYPE_DGRAM };
#define ST_FD_MAX (1 << 20)

/* Two levels of 1024 words each (fdtab.c); inline: every call asks. */
#define ST_FD_CHUNK_BITS 10
extern uint64_t *st__fdtop[ST_FD_MAX >> ST_FD_CHUNK_BITS];
/* FD's word: ST_FD_UNKNOWN until something set it. */
static inline uint64_t st__fd_get(int fd)
{
	if (unlikely((unsigned)fd >= ST_FD_MAX))
		return (uint64_t)ST_FD_NOTSOCK; /* beyond the table: untraced */
	uint64_t *c = __atomic_load_n(&st__fdtop[fd >> ST_FD_CHUNK_BITS],
				      __ATOMIC_ACQUIRE);
	if (!c)
		return ST_FD_UNKNOWN;
	return __atomic_load_n(&c[fd & ((1 << ST_FD_CHUNK_BITS) - 1)],
			       __ATOMIC_RELAXED);
}
/* Sets FD's word (nothing for an fd beyond the table, or in a vfork
 * child); maps the fd's chunk of the table on first use. */
void st__fd_set(int fd, uint64_t word);
/* Forgets every fd: after a detach they may all have changed. */
void st__fd_reset(void);
/* Highest fd + 1 the table may hold an entry for. */
int st__fd_limit(void);

static inline int st__fd_state(uint64_t w)
{
	return w & 3;
}
static inline uint64_t st__fd_conn(uint64_t w)
{
	return w >> 8;
}
static inline bool st__fd_is_tcp(uint64_t w)
{
	unsigned fam = (w >> 2) & 3;
	return ((w >> 4) & 3) == ST_TYPE_STREAM &&
	       (fam == ST_FAM_INET || fam == ST_FAM_INET6);
}
static inline bool st__fd_is_unix_stream(uint64_t w)
{
	return ((w >> 4) & 3) == ST_TYPE_STREAM &&
	       ((w >> 2) & 3) == ST_FAM_UNIX;
}
/* The word of a socket of DOMAIN and TYPE on connection CONN. */
uint64_t st__fd_word(uint64_t conn, int domain, int type);

/* A new connection id for this process. */
uint64_t st__conn_new(void);

/* Marks FD as a new socket (domain, type); returns its connection id. */
uint64_t st__fd_new_socket(int fd, int domain, int type);

/* Classifies FD, an fd the table knows nothing about, by fstat(); a
 * socket gets a new connection id, and *DOMAIN and *TYPE are set (else
 * *DOMAIN is -1).  Returns the fd's new word; errno may change. */
uint64_t st__fd_classify(int fd, int *domain, int *type);
/* Classifies FD as st__fd_classify does and, for a socket, writes a seen
 * record of what it is now, with FLAGS (ST_SEEN_*) added (record.c).
 * Returns the fd's new word; errno may change. */
uint64_t st__fd_seen(int fd, uint32_t flags);

/*
 * Records (writer.c).  One traced call in progress: st__enter*() (wrap.h)
 * take the start time and keep errno as the program left it; st__rec()
 * reserves a record and fills the common fields; st__publish() makes it
 * visible to readers.
 */
struct st__call {
	uint64_t ts;
	uint64_t word;
	uint64_t seq;
	int fd;
};

/* Reserves a record for call CALL that returned RET with errno ERR (used
 * when RET < 0); NULL if the record cannot be stored (counted as lost). */
struct st_rec *st__rec(struct st__call *c, enum st_call call, int64_t ret,
		       int err);
static inline void st__publish(struct st__call *c, struct st_rec *r)
{
	__atomic_store_n(&r->seq, c->seq, __ATOMIC_RELEASE);
}

/*
 * Record fields (record.c).  These helpers leave errno as they found it.
 */

/* Fills A from a kernel-validated sockaddr of LEN bytes. */
void st__addr_set(struct st_addr *a, const struct sockaddr *sa, socklen_t len);
/* A's local (getsockname) or peer (getpeername) address of FD. */
void st__addr_local(struct st_addr *a, int fd);
void st__addr_peer(struct st_addr *a, int fd);
/* Pid of the process that connected a Unix stream socket, 0 if unknown. */
int32_t st__peer_pid(int fd);
/* TCP state of FD (TCP_* value), 0 if not known. */
uint32_t st__tcp_state(int fd);
/* Accept-queue length and limit of a TCP listener; false if unknown. */
bool st__tcp_queue(int fd, uint32_t *len, uint32_t *max);

/* Records the data call CALL on a socket: ASKED bytes requested, FLAGS
 * and the address SA of SALEN bytes, if any (kept when RET >= 0). */
void st__data(struct st__call *c, enum st_call call, ssize_t ret, int err,
	      uint64_t asked, int flags, const struct sockaddr *sa,
	      socklen_t salen);

#endif
