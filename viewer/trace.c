/* SPDX-License-Identifier: MIT */
/* Reading trace files: validation, record access, loss accounting. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"
#include "units.h"

/* Record N's slot number.  A 64-bit division costs more than the rest
 * of reading a record; only a ring that went round needs it. */
static inline uint64_t slot_of(const struct st_trace *t, uint64_t n)
{
	return n < t->hdr.capacity ? n : n % t->hdr.capacity;
}

uint64_t st_trace_offset(const struct st_trace *t, uint64_t n)
{
	return ST_HEADER_SIZE + slot_of(t, n) * ST_SLOT_SIZE;
}

uint64_t st_trace_skip(const struct st_trace *t, uint64_t n)
{
	uint64_t slot = slot_of(t, n), next;

	if (slot < t->slots)
		return n;
	if (__builtin_add_overflow(n, t->hdr.capacity - slot, &next))
		return UINT64_MAX;
	return next;
}

/*
 * Works out which records can be read and how many were lost: records
 * overwritten in a full ring or refused by a full stop-policy file
 * (next - capacity), dropped by the writer (it could not grow the file:
 * those were never in it), and cut off by truncating the file.
 */
static void account(struct st_trace *t)
{
	const struct st_header *h = (const void *)t->map;
	uint64_t cap = t->hdr.capacity;

	t->hdr.next = __atomic_load_n(&h->next, __ATOMIC_ACQUIRE);
	t->hdr.mapped = __atomic_load_n(&h->mapped, __ATOMIC_ACQUIRE);
	t->hdr.dropped = __atomic_load_n(&h->dropped, __ATOMIC_RELAXED);
	t->hdr.exit_ts = __atomic_load_n(&h->exit_ts, __ATOMIC_ACQUIRE);
	/* its process has exited: no writer changes the file any more */
	t->buffered = t->hdr.exit_ts != 0 && t->fd != -2;
	t->buf_n = 0;

	uint64_t next = t->hdr.next;
	uint64_t mapped = t->hdr.mapped < cap ? t->hdr.mapped : cap;
	bool ring = next > cap && t->hdr.policy == ST_POLICY_RING;

	t->lost = t->hdr.dropped + (next > cap ? next - cap : 0);
	t->first = ring ? next - cap : 0;
	t->end = next > cap ? (ring ? next : cap) : next;
	t->cut = 0;
	if (ring) {
		/* every slot holds one record of the window */
		if (t->slots < cap)
			t->cut = cap - t->slots;
	} else {
		if (t->end > mapped)
			t->end = mapped; /* the rest was dropped */
		if (t->end > t->slots) {
			t->cut = t->end - t->slots;
			t->end = t->slots;
		}
	}
	t->lost += t->cut;
}

/* Opens PATH and maps all of it into T (size, dev, ino, map); -1 with
 * a message in ERR when it is not a file that can hold a trace. */
static int map_file(struct st_trace *t, const char *path, char *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, ST_ERR_LEN, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, ST_ERR_LEN, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, ST_ERR_LEN,
			 "%s: empty file (its process may have been killed "
			 "while creating it): no records to show, skipped",
			 path);
		close(fd);
		return -1;
	}
	if (st.st_size < ST_HEADER_SIZE) {
		snprintf(err, ST_ERR_LEN,
			 "%s: truncated at offset %lld: the header needs %d "
			 "bytes; skipped (copy the whole file)",
			 path, (long long)st.st_size, ST_HEADER_SIZE);
		close(fd);
		return -1;
	}
	t->size = (size_t)st.st_size;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->map = mmap(NULL, t->size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (t->map == MAP_FAILED) {
		snprintf(err, ST_ERR_LEN, "%s: cannot map: %s", path,
			 strerror(errno));
		t->map = NULL;
		return -1;
	}
	return 0;
}

/* Is H the header of a trace this viewer reads?  -1 with a message in
 * ERR saying why not and what to do. */
static int check_header(const struct st_header *h, const char *path, char *err)
{
	if (memcmp(h->magic, ST_MAGIC, sizeof(h->magic))) {
		snprintf(err, ST_ERR_LEN,
			 "%s: not a socktrace trace file (bad magic at offset "
			 "0): skipped; give trace files or their directory",
			 path);
		return -1;
	}
	if (h->version > ST_VERSION &&
	    __builtin_bswap32(h->version) <= ST_VERSION) {
		snprintf(err, ST_ERR_LEN,
			 "%s: written on a machine of the other byte order: "
			 "read it with socktrace on such a machine",
			 path);
		return -1;
	}
	if (h->version > ST_VERSION) {
		snprintf(err, ST_ERR_LEN,
			 "%s: written by a newer socktrace (format version "
			 "%u; this one reads %d): use that version to read it",
			 path, h->version, ST_VERSION);
		return -1;
	}
	if (h->version >= 1 && h->version < ST_VERSION_MIN) {
		snprintf(err, ST_ERR_LEN,
			 "%s: written by an older socktrace (format version "
			 "%u; this one reads %d to %d): record it again, or "
			 "read it with that version",
			 path, h->version, ST_VERSION_MIN, ST_VERSION);
		return -1;
	}
	if (h->version < ST_VERSION_MIN || h->header_size != ST_HEADER_SIZE ||
	    h->slot_size != ST_SLOT_SIZE || h->capacity == 0 ||
	    h->capacity > (UINT64_MAX - ST_HEADER_SIZE) / ST_SLOT_SIZE ||
	    h->policy > ST_POLICY_STOP) {
		snprintf(err, ST_ERR_LEN,
			 "%s: corrupt header at offset 8 (version %u, slot "
			 "size %u, capacity %llu, policy %u): skipped, the "
			 "file is damaged",
			 path, h->version, h->slot_size,
			 (unsigned long long)h->capacity, h->policy);
		return -1;
	}
	return 0;
}

int st_trace_open(struct st_trace *t, const char *path, char *err)
{
	const struct st_header *h;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	snprintf(t->path, sizeof(t->path), "%s", path);
	if (map_file(t, path, err))
		return -1;
	h = (const void *)t->map;
	memcpy(&t->hdr, h, sizeof(t->hdr));
	/* the writer NUL-terminates these; a damaged file may not */
	t->hdr.comm[sizeof(t->hdr.comm) - 1] = 0;
	t->hdr.exe[sizeof(t->hdr.exe) - 1] = 0;
	t->hdr.host[sizeof(t->hdr.host) - 1] = 0;
	t->hdr.boot_id[sizeof(t->hdr.boot_id) - 1] = 0;
	if (check_header(h, path, err)) {
		munmap((void *)t->map, t->size);
		t->map = NULL;
		return -1;
	}
	t->slots = (t->size - ST_HEADER_SIZE) / ST_SLOT_SIZE;
	if (t->slots > h->capacity)
		t->slots = h->capacity;
	account(t);
	uint64_t want = t->hdr.mapped < t->hdr.capacity ? t->hdr.mapped
							: t->hdr.capacity;
	if (t->slots < want)
		snprintf(t->warn, sizeof(t->warn),
			 "%s: truncated at offset %zu (the writer had %llu "
			 "bytes): %llu record%s lost, the rest are shown",
			 path, t->size,
			 (unsigned long long)(ST_HEADER_SIZE +
					      want * ST_SLOT_SIZE),
			 (unsigned long long)t->cut, st_plural(t->cut));
	return 0;
}

void st_trace_close(struct st_trace *t)
{
	st_trace_rest(t);
	if (t->map)
		munmap((void *)t->map, t->size);
	t->map = NULL;
}

void st_trace_rest(struct st_trace *t)
{
	free(t->buf);
	t->buf = NULL;
	t->buf_n = 0;
	if (t->fd >= 0)
		close(t->fd);
	if (t->fd != -2)
		t->fd = -1;
}

/* Bytes of slots read at a time: within the L2 cache with room to
 * spare. */
#define RUN (64 << 10)

/*
 * Reads the run of slots from SLOT on (LEFT records from there to the
 * end: no slot past them) into T's buffer; -1 when it
 * cannot (the file is then read through the mapping from now on).
 * Reading the mapping costs a page fault every 16 pages, page-table
 * work to give the pages back, and (in a virtual machine) more faults
 * the guest does not see: about five times what pread costs.  A file
 * still being written is read through the mapping: its slots' sequence
 * numbers must be checked around each copy (st_trace_get), which a
 * pread copy cannot do.
 */
static int fill(struct st_trace *t, uint64_t slot, uint64_t left)
{
	struct stat st;
	uint64_t n = t->end - t->first;

	if (t->fd == -1) {
		t->fd = open(t->path, O_RDONLY | O_CLOEXEC);
		/* the file mapped, not another one renamed into its place */
		if (t->fd >= 0 && (fstat(t->fd, &st) || st.st_dev != t->dev ||
				   st.st_ino != t->ino)) {
			close(t->fd);
			t->fd = -1;
		}
		if (t->fd < 0)
			goto fail;
	}
	if (!t->buf) {
		/* a file of few records gets a buffer their size */
		if (n > RUN / ST_SLOT_SIZE)
			n = RUN / ST_SLOT_SIZE;
		if (n > t->slots)
			n = t->slots;
		if (!(t->buf = malloc(n * ST_SLOT_SIZE)))
			goto fail;
		t->buf_cap = n;
	}
	n = t->slots - slot < t->buf_cap ? t->slots - slot : t->buf_cap;
	if (n > left)
		n = left;
	size_t len = n * ST_SLOT_SIZE;
	off_t at = ST_HEADER_SIZE + (off_t)(slot * ST_SLOT_SIZE);
	if (pread(t->fd, t->buf, len, at) != (ssize_t)len)
		goto fail;
	t->buf_slot = slot;
	t->buf_n = n;
	return 0;
fail:
	st_trace_rest(t);
	t->fd = -2; /* not again */
	t->buffered = false;
	return -1;
}

/* Where record N's slot SLOT can be read: the buffer or the mapping. */
static const struct st_rec *slot_at(struct st_trace *t, uint64_t n,
				    uint64_t slot)
{
	if (t->buffered && (slot - t->buf_slot < t->buf_n ||
			    (n < t->end && fill(t, slot, t->end - n) == 0)))
		return (const void *)(t->buf +
				      (slot - t->buf_slot) * ST_SLOT_SIZE);
	return (const void *)(t->map + ST_HEADER_SIZE + slot * ST_SLOT_SIZE);
}

void st_trace_refresh(struct st_trace *t)
{
	struct stat st;

	/* the writer may have grown the file: map the new size */
	if (stat(t->path, &st) == 0 && (size_t)st.st_size > t->size) {
		int fd = open(t->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			void *m = mmap(NULL, (size_t)st.st_size, PROT_READ,
				       MAP_SHARED, fd, 0);
			close(fd);
			if (m != MAP_FAILED) {
				munmap((void *)t->map, t->size);
				t->map = m;
				t->size = (size_t)st.st_size;
				t->slots = (t->size - ST_HEADER_SIZE) /
					   ST_SLOT_SIZE;
				if (t->slots > t->hdr.capacity)
					t->slots = t->hdr.capacity;
			}
		}
	}
	account(t);
}

bool st_trace_ready(const struct st_trace *t, uint64_t n)
{
	if (slot_of(t, n) >= t->slots)
		return false;
	const struct st_rec *s = (const void *)(t->map + st_trace_offset(t, n));
	return __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == n + 1;
}

int st_trace_get(struct st_trace *t, uint64_t n, struct st_rec *r)
{
	uint64_t slot = slot_of(t, n);

	if (slot >= t->slots)
		return 0; /* cut off with the file's end: counted in cut */
	const struct st_rec *s = slot_at(t, n, slot);
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if (seq != n + 1) {
		t->missing++;
		return 0;
	}
	memcpy(r, s, sizeof(*r));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	/* a ring writer may have started reusing the slot meanwhile */
	if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq) {
		t->missing++;
		return 0;
	}
	if (r->call >= ST_CALL_COUNT || (r->flags & ~ST_REC_FLAGS)) {
		t->corrupt++;
		if (!t->warn[0])
			snprintf(t->warn, sizeof(t->warn),
				 "%s: corrupt record at offset %llu (call "
				 "kind %u, flags %#x): skipped, the rest are "
				 "shown",
				 t->path,
				 (unsigned long long)st_trace_offset(t, n),
				 r->call, r->flags);
		return -1;
	}
	t->good++;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(char ***list, int *n, int *cap, const char *p)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		char **l = realloc(*list, *cap * sizeof(char *));
		if (!l)
			return -1;
		*list = l;
	}
	if (!((*list)[*n] = strdup(p)))
		return -1;
	(*n)++;
	return 0;
}

int st_trace_find(char **paths, int npaths, char ***out, char *err)
{
	char **list = NULL;
	int n = 0, cap = 0;

	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0) {
			snprintf(err, ST_ERR_LEN, "%s: %s", paths[i],
				 strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (add_path(&list, &n, &cap, paths[i]))
				goto oom;
			continue;
		}
		DIR *d = opendir(paths[i]);
		if (!d) {
			snprintf(err, ST_ERR_LEN,
				 "%s: cannot read directory: %s", paths[i],
				 strerror(errno));
			goto fail;
		}
		int before = n;
		struct dirent *e;
		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);
			if (l < 7 || strcmp(e->d_name + l - 6, ".trace"))
				continue;
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", paths[i], e->d_name);
			if (add_path(&list, &n, &cap, p)) {
				closedir(d);
				goto oom;
			}
		}
		closedir(d);
		if (n > before) /* list may still be NULL */
			qsort(list + before, n - before, sizeof(char *),
			      cmp_str);
	}
	*out = list;
	return n;
oom:
	snprintf(err, ST_ERR_LEN, "out of memory");
fail:
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return -1;
}

bool st_header_read(const char *path, struct st_header *h)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	bool ok = pread(fd, h, sizeof(*h), 0) == sizeof(*h);
	close(fd);
	return ok;
}

bool st_peek_header(const char *path, uint64_t *until, uint64_t *next)
{
	struct st_header h;
	bool ok = st_header_read(path, &h) &&
		  !memcmp(h.magic, ST_MAGIC, sizeof(h.magic));

	if (ok) {
		*until = h.attach_until;
		*next = h.next;
	}
	return ok;
}

uint64_t st_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
