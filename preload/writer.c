/* SPDX-License-Identifier: MIT */
/* The trace file writer: per-process file, lock-free slots, chunked growth. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "writer.h"
#include "clock.h"
#include "fdtab.h"
#include "limits.h"
#include "tracefile.h"
#include "state.h"

/* w.state: no file yet, being made, ready, or failed (until an attach
 * tries again). */
enum { W_NONE, W_BUSY, W_READY, W_FAILED };

/*
 * The whole file, up to the size cap, has address space reserved at once;
 * chunks of it are mapped from the file as it grows.  A slot's address is
 * then a plain offset, with no per-chunk table on the hot path.
 */
static struct {
	int state;
	int growing;
	struct st_header *hdr;
	struct st_rec *slots;
	uint64_t capacity; /* slots the file may grow to */
	/* the header's capacity and policy, kept here too so that writing a
	 * record does not touch the header's page */
	uint64_t slots_cap;
	uint32_t policy;
	uint64_t populated; /* slots faulted in: the hot path's bound */
	size_t reserved;    /* bytes of address space, header included */
	int err;	    /* why the file could not be made (errno) */
	uint64_t inherited; /* attached: the lease a fork child starts with */
	uint32_t limits;    /* ST_LIMIT_*: the program's limits bound us */
	/* in a fork child: the parent's reserved address space, reused for
	 * the child's file (unmapping it costs more than the rest of
	 * making the file) */
	void *spare;
	size_t spare_len;
	char path[PATH_MAX];
} w;

static ST_TLS int tls_busy; /* this thread is creating or growing the file */
static ST_TLS uint64_t tls_mask; /* the program's signal mask meanwhile */

/* A file operation of ours failed: with EFBIG, RLIMIT_FSIZE was lowered
 * since we checked it, and its SIGXFSZ must not reach the program. */
static void failed_op(void)
{
	int e = errno;

	if (e == EFBIG)
		st__xfsz_forget(tls_mask);
	errno = e;
}

static long sys_open(const char *path, int flags, int mode)
{
	return st__sys(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0, 0);
}

static void sys_close(long fd)
{
	st__sys(SYS_close, fd, 0, 0, 0, 0, 0);
}

/*
 * The file starts with room for FIRST_SLOTS records (with the header, 16
 * KiB: four pages) and then doubles, chunk by chunk, up to chunks of
 * ST_CHUNK_SLOTS (1 MiB).  A process that makes a few socket calls
 * (a forked server's child) then costs a 16 KiB file, not 1 MiB of
 * allocation and zeros.  Chunks are whole pages: each maps at its own
 * file offset.
 */
#define FIRST_SLOTS 96

/* Slots of the chunk that follows the first M. */
static uint64_t chunk_after(uint64_t m)
{
	uint64_t n = m < FIRST_SLOTS ? FIRST_SLOTS : m;

	return n < ST_CHUNK_SLOTS ? n : ST_CHUNK_SLOTS;
}

/*
 * Writes zeros over [off, off + len) of the file, so its pages are in the
 * page cache before they are mapped.  Faulting fallocate()d (unwritten)
 * blocks in through the mapping instead costs ext4 a read path and a
 * journal round per page: 3-4 times as much, about 75 ns per record on
 * the project's machine (README, Performance).  Writing them also
 * allocates the blocks (a full disk fails here, not with a SIGBUS when
 * the page is first written), without fallocate's unwritten extents to
 * convert.  The zeros are read from a buffer never written, so it costs
 * no memory.  False when not all could be written.
 */
static bool prefill(long fd, off_t off, off_t len)
{
	static char zeros[1 << 16];
	struct iovec v[16];

	while (len > 0) {
		int n = 0;
		for (off_t left = len; n < 16 && left > 0; n++) {
			off_t k = left < (off_t)sizeof(zeros)
					  ? left
					  : (off_t)sizeof(zeros);
			v[n] = (struct iovec){ zeros, (size_t)k };
			left -= k;
		}
		long r = st__sys(SYS_pwritev, fd, (long)v, n, off, 0, 0);
		if (r <= 0) {
			failed_op();
			return false;
		}
		off += r;
		len -= r;
	}
	return true;
}

/* Backs slots [from, from + n) with file space and maps them. */
static bool map_slots(long fd, uint64_t from, uint64_t n)
{
	off_t off = ST_HEADER_SIZE + (off_t)from * ST_SLOT_SIZE;
	off_t len = (off_t)n * ST_SLOT_SIZE;

	if (from == 0) { /* the header comes with the first chunk */
		off = 0;
		len += ST_HEADER_SIZE;
	}
	/* past RLIMIT_FSIZE the kernel would raise SIGXFSZ: the program's
	 * death, once our signal mask lets it through */
	if ((uint64_t)(off + len) > st__fsize_max()) {
		st__debug("the program's RLIMIT_FSIZE leaves no room for the "
			  "trace file to grow: later records are lost "
			  "(counted)",
			  0);
		if (w.hdr && from)
			__atomic_fetch_or(&w.hdr->limits, ST_LIMIT_FSIZE,
					  __ATOMIC_RELAXED);
		errno = EFBIG;
		return false;
	}
	/* zeros over the pages populate() faults in next; all of a large
	 * mapping (before a uid change) would be SOCKTRACE_MAX_SIZE of page
	 * cache: the rest is allocated now, so a full disk is an error here,
	 * not a SIGBUS later */
	off_t chunk = (off_t)chunk_after(from) * ST_SLOT_SIZE + ST_HEADER_SIZE;
	off_t fill = len < chunk ? len : chunk;
	long r = prefill(fd, off, fill) ? 0 : -1;
	if (r == 0 && len > fill) {
		r = st__sys(SYS_fallocate, fd, 0, off + fill, len - fill, 0, 0);
		if (r < 0 && errno == EOPNOTSUPP)
			r = st__sys(SYS_ftruncate, fd, off + len, 0, 0, 0, 0);
		if (r < 0)
			failed_op();
	}
	if (r < 0) {
		st__debug("cannot grow the trace file", errno);
		return false;
	}
	void *p = mmap((char *)w.hdr + off, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, fd, off);
	if (p == MAP_FAILED) {
		st__debug("cannot map the trace file", errno);
		return false;
	}
	return true;
}

/*
 * Faults the next chunk of mapped slots in writable, in one call, rather
 * than one page fault per 32 records on the hot path (MADV_POPULATE_WRITE,
 * Linux 5.14+; where it fails, pages fault on first write as before).
 */
static void populate(uint64_t mapped)
{
	uint64_t from = w.populated;
	uint64_t n = mapped - from < chunk_after(from) ? mapped - from
						       : chunk_after(from);
	char *p = (char *)&w.slots[from];
	size_t len = n * ST_SLOT_SIZE;

	if (from == 0) { /* with the header */
		p = (char *)w.hdr;
		len += ST_HEADER_SIZE;
	}
	madvise(p, len, MADV_POPULATE_WRITE);
	__atomic_store_n(&w.populated, from + n, __ATOMIC_RELEASE);
}

#define MIN_SIZE (ST_HEADER_SIZE + ST_SLOT_SIZE * 16)

/*
 * Slots the file may grow to: SOCKTRACE_MAX_SIZE (at least 16), within
 * what the program's RLIMIT_FSIZE and RLIMIT_AS leave; 0 when they leave
 * less than 16 (the program then runs untraced).
 */
static uint64_t size_cap(void)
{
	uint64_t size =
		st__cfg.max_size < MIN_SIZE ? MIN_SIZE : st__cfg.max_size;
	/* a fork child's parent's reservation is given back or reused */
	uint64_t f = st__fsize_max(),
		 a = st__as_budget(w.spare ? w.spare_len : 0);
	uint64_t lim = f < a ? f : a;

	w.limits = 0;
	if (lim < MIN_SIZE) {
		st__debug(f < a ? "the program's RLIMIT_FSIZE leaves no room "
				  "for a trace file: not tracing"
				: "the program's RLIMIT_AS leaves no room for "
				  "the trace: not tracing",
			  0);
		return 0;
	}
	if (lim < size) {
		w.limits = f < a ? ST_LIMIT_FSIZE : ST_LIMIT_AS;
		st__debug(f < a ? "the program's RLIMIT_FSIZE bounds the "
				  "trace file's size"
				: "the program's RLIMIT_AS bounds the trace's "
				  "size",
			  0);
		size = lim;
	}
	return (size - ST_HEADER_SIZE) / ST_SLOT_SIZE;
}

/* Maps the new file FD's first chunk into BASE and fills its header. */
static bool first_chunk(long fd, void *base, const char *comm)
{
	uint64_t cap = w.capacity;
	uint64_t first = cap < chunk_after(0) ? cap : chunk_after(0);

	w.hdr = base;
	w.slots = (struct st_rec *)((char *)base + ST_HEADER_SIZE);
	if (!map_slots(fd, 0, first)) {
		w.hdr = NULL;
		return false;
	}
	w.populated = 0;
	populate(first);
	st__header_fill(w.hdr, comm, w.capacity);
	if (st__attached) /* a fork child records as long as its parent */
		w.hdr->attach_until = w.inherited;
	w.hdr->limits = w.limits;
	__atomic_store_n(&w.hdr->mapped, first, __ATOMIC_RELEASE);
	return true;
}

/*
 * Address space for LEN bytes of file: the parent's, in a fork child,
 * when it has that size (the parts of the parent's file still mapped
 * there are mapped over as the child's file grows, and never read);
 * else a new reservation.  MAP_FAILED when there is none.
 */
static void *reserve(size_t len)
{
	void *p = w.spare;

	w.spare = NULL;
	if (p && w.spare_len == len)
		return p;
	if (p)
		munmap(p, w.spare_len);
	return mmap(NULL, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

/* Creates this process's trace file; true when records can be written. */
static bool create(void)
{
	char name[64], comm[16];
	uint64_t cap = size_cap();

	if (!cap) {
		reserve(0); /* gives a parent's address space back */
		return false;
	}
	w.capacity = cap;
	w.slots_cap = cap;
	w.policy = st__cfg.policy;
	w.reserved = ST_HEADER_SIZE + cap * ST_SLOT_SIZE;
	/* the address space first: when there is none, no file is left */
	void *base = reserve(w.reserved);
	if (base == MAP_FAILED) {
		st__debug("cannot reserve address space for the trace", errno);
		return false;
	}
	long dfd = st__trace_dir_open();
	long fd = -1;
	if (dfd >= 0) {
		/* /proc/self/comm, without a path lookup */
		memset(comm, 0, sizeof(comm));
		st__sys(SYS_prctl, PR_GET_NAME, (long)comm, 0, 0, 0, 0);
		fd = st__trace_file_new(dfd, comm, name, sizeof(name));
		if (fd < 0)
			st__debug("cannot create the trace file", errno);
	}
	bool ok = fd >= 0 && first_chunk(fd, base, comm);
	if (fd >= 0) {
		sys_close(fd);
		const char *e = w.path + sizeof(w.path);
		st__put_s(st__put_s(st__put_s(w.path, e, st__cfg.dir), e, "/"),
			  e, name);
	}
	if (!ok && fd >= 0) /* an empty file would read as a broken one */
		st__sys(SYS_unlinkat, dfd, (long)name, 0, 0, 0, 0);
	if (dfd >= 0)
		sys_close(dfd);
	if (!ok)
		munmap(base, w.reserved);
	return ok;
}

/*
 * The slow paths (making the file, growing it) run with signals blocked:
 * a handler that makes socket calls then waits until they are done
 * instead of finding its own thread busy (its records would be lost) or
 * spinning on a flag its own thread holds (a deadlock).  It is delayed by
 * at most the time of one file operation, once per 8,192 records.
 */
static uint64_t signals_off(void)
{
	uint64_t all = ~0ull, old = 0;

	st__sys(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&old,
		sizeof(all), 0, 0);
	tls_mask = old;
	return old;
}

/* Puts back the signal mask OLD that signals_off returned. */
static void signals_back(uint64_t old)
{
	st__sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, sizeof(old), 0,
		0);
}

/*
 * Makes the trace file, once: the thread that wins runs create(); others
 * yield until it is done.  A signal handler that interrupts the winner
 * (tls_busy) gets NULL rather than waiting for itself.  NULL also when
 * the file could not be made.
 */
static __attribute__((noinline)) struct st_header *header_slow(void)
{
	for (;;) {
		int s = __atomic_load_n(&w.state, __ATOMIC_ACQUIRE);
		if (likely(s == W_READY))
			return w.hdr;
		if (s == W_FAILED || tls_busy)
			return NULL;
		uint64_t mask = signals_off();
		if (s == W_NONE &&
		    __atomic_compare_exchange_n(&w.state, &s, W_BUSY, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			int e = errno;
			tls_busy = 1;
			errno = 0;
			bool ok = create();
			w.err = ok ? 0 : errno ? errno : EIO;
			tls_busy = 0;
			errno = e;
			__atomic_store_n(&w.state, ok ? W_READY : W_FAILED,
					 __ATOMIC_RELEASE);
			signals_back(mask);
			continue;
		}
		signals_back(mask);
		sched_yield();
	}
}

/* The trace file's header, the file made on first use; NULL if none. */
static inline struct st_header *header(void)
{
	if (likely(__atomic_load_n(&w.state, __ATOMIC_ACQUIRE) == W_READY))
		return w.hdr;
	return header_slow();
}

/*
 * Of N more slots after the first M, those the program's RLIMIT_FSIZE
 * lets the file hold now, in whole pages (later chunks must start on
 * one); N when none fit (map_slots then says why it cannot grow).
 */
static uint64_t fitting(uint64_t m, uint64_t n)
{
	const uint64_t page = 4096 / ST_SLOT_SIZE;
	uint64_t max = st__fsize_max();

	if (ST_HEADER_SIZE + (m + n) * ST_SLOT_SIZE <= max)
		return n;
	uint64_t k = max > ST_HEADER_SIZE
			     ? (max - ST_HEADER_SIZE) / ST_SLOT_SIZE
			     : 0;
	k = k > m ? (k - m) & ~(page - 1) : 0;
	return k ? k : n;
}

/*
 * Makes slot I usable: maps file space up to it (by chunks, or ALL the
 * rest at once) and faults its chunk in; false if it cannot.
 */
static bool grow(struct st_header *h, uint64_t i, bool all)
{
	for (;;) {
		if (i < __atomic_load_n(&w.populated, __ATOMIC_ACQUIRE))
			return true;
		uint64_t m = __atomic_load_n(&h->mapped, __ATOMIC_ACQUIRE);
		if (tls_busy || (i >= m && m >= w.capacity))
			return false;
		int expect = 0;
		uint64_t mask = signals_off();
		if (!__atomic_compare_exchange_n(&w.growing, &expect, 1, false,
						 __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED)) {
			signals_back(mask);
			sched_yield();
			continue;
		}
		/* re-check: the previous holder may have mapped it */
		m = __atomic_load_n(&h->mapped, __ATOMIC_ACQUIRE);
		bool ok = true;
		int e = errno;
		tls_busy = 1;
		if (i >= m) {
			uint64_t n = w.capacity - m < chunk_after(m) || all
					     ? w.capacity - m
					     : chunk_after(m);
			n = fitting(m, n);
			long fd = sys_open(w.path,
					   O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
			ok = fd >= 0 && map_slots(fd, m, n);
			if (fd >= 0)
				sys_close(fd);
			if (ok) {
				m += n;
				__atomic_store_n(&h->mapped, m,
						 __ATOMIC_RELEASE);
			} else {
				w.capacity = m; /* stop growing for good */
			}
		}
		if (ok && i >= w.populated)
			populate(m);
		tls_busy = 0;
		__atomic_store_n(&w.growing, 0, __ATOMIC_RELEASE);
		signals_back(mask);
		errno = e;
		if (!ok)
			return false;
	}
}

/*
 * Takes ring slot R over for record N (a later lap): marks it busy, which
 * readers see as in flux.  Two writers a lap or more apart can reach the
 * same slot at once (one was preempted while the ring went round); only
 * one may write it, or the record read back would mix both.  The slot is
 * taken only from a complete older record; a writer that finds it busy
 * (or its first record not published yet, or a newer one there) gives
 * its record up, and readers count it as never completed.  No waiting:
 * the writer in the slot may be this thread, interrupted by a signal.
 */
static bool claim(struct st_rec *r, uint64_t n)
{
	uint64_t old = __atomic_load_n(&r->seq, __ATOMIC_RELAXED);

	do {
		if (old == 0 || (old & ST_SEQ_BUSY) || old > n)
			return false;
	} while (!__atomic_compare_exchange_n(
		&r->seq, &old, (n + 1) | ST_SEQ_BUSY, true, __ATOMIC_ACQUIRE,
		__ATOMIC_RELAXED));
	/* the busy mark before any field: a reader that copies the slot
	 * meanwhile sees seq change (seqlock) */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return true;
}

struct st_rec *st__rec(struct st__call *c, enum st_call call, int64_t ret,
		       int err)
{
	uint64_t end = st__now(); /* before any work of ours */
	struct st_header *h = header();
	if (unlikely(!h))
		return NULL;
	if (unlikely(st__attached) &&
	    end >= __atomic_load_n(&h->attach_until, __ATOMIC_ACQUIRE)) {
		/* the viewer stopped (or its lease ran out): pass through */
		int on = ST_ON;
		__atomic_compare_exchange_n(&st__state, &on, ST_OFF, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		return NULL;
	}
	uint64_t n = __atomic_fetch_add(&h->next, 1, __ATOMIC_RELAXED);
	uint64_t cap = w.slots_cap;
	uint64_t i = n;
	if (unlikely(n >= cap)) {
		if (w.policy == ST_POLICY_STOP)
			return NULL; /* next - capacity counts the loss */
		i = n % cap;
	}
	if (unlikely(i >= __atomic_load_n(&w.populated, __ATOMIC_ACQUIRE)) &&
	    !grow(h, i, false)) {
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	struct st_rec *r = &w.slots[i];
	if (unlikely(n >= cap) && !claim(r, n))
		return NULL;
	c->seq = n + 1;
	r->ts = c->ts;
	/* a new clock anchor between the two readings may set the end a
	 * few ns before the start */
	r->dur = end > c->ts ? end - c->ts : 0;
	r->conn = st__fd_conn(c->word);
	r->ret = ret;
	r->tid = st__tid();
	r->fd = c->fd;
	r->call = (uint16_t)call;
	r->flags = ret < 0 ? ST_REC_ERR : 0;
	r->err = ret < 0 ? (uint16_t)err : 0;
	r->sock = st__fd_sock(c->word);
	memset(&r->u, 0, sizeof(r->u));
	return r;
}

void st__writer_after_fork(void)
{
	/* the parent's file stays the parent's: the child makes its own,
	 * in the same address space (reserve()) */
	if (w.hdr) {
		w.inherited =
			__atomic_load_n(&w.hdr->attach_until, __ATOMIC_ACQUIRE);
		if (w.spare)
			munmap(w.spare, w.spare_len);
		w.spare = w.hdr;
		w.spare_len = w.reserved;
	}
	w.hdr = NULL;
	w.slots = NULL;
	w.populated = 0;
	w.growing = 0;
	tls_busy = 0;
	__atomic_store_n(&w.state, W_NONE, __ATOMIC_RELEASE);
}

void st__writer_exit(void)
{
	if (__atomic_load_n(&w.state, __ATOMIC_ACQUIRE) == W_READY)
		__atomic_store_n(&w.hdr->exit_ts, st__now(), __ATOMIC_RELEASE);
}

void st__writer_before_uid_change(void)
{
	struct st_header *h = header();

	/* growing reopens the file by its path, which the new user may not
	 * reach: map all of it now (SOCKTRACE_MAX_SIZE of disk); pages are
	 * still faulted in a chunk at a time, as records reach them */
	if (h)
		grow(h, __atomic_load_n(&h->mapped, __ATOMIC_ACQUIRE), true);
}

int st__writer_attach(uint64_t until)
{
	int failed = W_FAILED;

	/* an earlier attempt may have failed in another directory */
	__atomic_compare_exchange_n(&w.state, &failed, W_NONE, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	w.inherited = until;
	struct st_header *h = header();
	if (!h)
		return -(w.err ? w.err : EIO);
	__atomic_store_n(&h->attach_until, until, __ATOMIC_RELEASE);
	return 0;
}

void st__writer_limit_as(void)
{
	if (__atomic_load_n(&w.state, __ATOMIC_ACQUIRE) != W_READY)
		return;
	uint64_t mask = signals_off();
	int expect = 0;
	/* no growth meanwhile: it maps into the part given back */
	while (!__atomic_compare_exchange_n(&w.growing, &expect, 1, false,
					    __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		expect = 0;
		sched_yield();
	}
	uint64_t m = __atomic_load_n(&w.hdr->mapped, __ATOMIC_ACQUIRE);
	const uint64_t page = 4096;
	uint64_t used =
		(ST_HEADER_SIZE + m * ST_SLOT_SIZE + page - 1) & ~(page - 1);
	/* what is mapped, and the share of the limit any trace may take
	 * (counted without the part given back) */
	uint64_t keep = st__as_budget(w.reserved - used);
	keep = keep > w.reserved - used ? w.reserved
					: used + (keep & ~(page - 1));
	if (keep < w.reserved) {
		munmap((char *)w.hdr + keep, w.reserved - keep);
		w.reserved = keep;
		/* the records that do not fit are counted as dropped */
		w.capacity = (keep - ST_HEADER_SIZE) / ST_SLOT_SIZE;
		if (w.capacity < m)
			w.capacity = m;
		__atomic_fetch_or(&w.hdr->limits, ST_LIMIT_AS,
				  __ATOMIC_RELAXED);
		st__debug("the program set RLIMIT_AS: the trace gives back "
			  "the address space it does not need; records past "
			  "what is left are lost (counted)",
			  0);
	}
	__atomic_store_n(&w.growing, 0, __ATOMIC_RELEASE);
	signals_back(mask);
}

bool st__writer_has_file(void)
{
	return __atomic_load_n(&w.state, __ATOMIC_ACQUIRE) == W_READY;
}

int32_t st__somaxconn(void)
{
	struct st_header *h = header();

	return h ? h->somaxconn : -1;
}
