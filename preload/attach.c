/* SPDX-License-Identifier: MIT */
/* Attach: start recording in a running process, redirecting its GOTs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "attach.h"
#include "clock.h"
#include "fdtab.h"
#include "init.h"
#include "record.h"
#include "state.h"
#include "writer.h"

/*
 * socktrace attach loads this library into a running process with
 * dlopen.  Symbol interposition happens only when an object is loaded,
 * so the calls of every object already loaded still go straight to libc
 * through their resolved GOT entries: those of the functions we wrap
 * are pointed at our wrappers instead, and the original values kept so
 * that socktrace detach can put them back.
 */

/* Every libc function we wrap, by the name objects import it under. */
#define ST__NAME(name) #name,
static const char *const wrapped[] = { ST_EXPORT_TABLE(ST__NAME) };
#undef ST__NAME
#define NWRAPPED ((size_t)ST__NEXPORT)

/* One GOT entry we changed. */
struct patch {
	uint64_t *slot;
	uint64_t orig; /* what it held: libc's function, or a lazy stub */
	uint64_t mine; /* our wrapper */
	bool relro;    /* in a page the loader made read-only */
};

static struct patch *patches;
static size_t npatches, cappatches;
static void *mine[NWRAPPED]; /* our wrapper for each wrapped name */
static uintptr_t self_base;
static long page;

/* Does the object at BASE have the page of SLOT in its read-only
 * (RELRO) part?  The loader protects whole pages from the segment's
 * start up to its end rounded down. */
static bool in_relro(const struct dl_phdr_info *info, uintptr_t slot)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_GNU_RELRO)
			continue;
		uintptr_t s = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		uintptr_t e = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) &
			      ~(page - 1);
		return slot >= s && slot < e;
	}
	return false;
}

/* Stores V into SLOT: one aligned 8-byte store, so a thread calling
 * through it meanwhile gets the old or the new function, never a mix.
 * A RELRO page is made writable for the moment of the store. */
static bool store(uint64_t *slot, uint64_t v, bool relro)
{
	void *pg = (void *)((uintptr_t)slot & ~(page - 1));

	if (relro && mprotect(pg, page, PROT_READ | PROT_WRITE))
		return false;
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
	if (relro)
		mprotect(pg, page, PROT_READ);
	return true;
}

static struct patch *patch_of(uint64_t *slot)
{
	for (size_t i = 0; i < npatches; i++)
		if (patches[i].slot == slot)
			return &patches[i];
	return NULL;
}

static void redirect(const struct dl_phdr_info *info, uint64_t *slot, int k)
{
	uint64_t cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	uint64_t w = (uint64_t)(uintptr_t)mine[k];
	struct patch *p = patch_of(slot);

	if (cur == w)
		return; /* still ours from an earlier attach */
	if (!p) {
		if (npatches == cappatches) {
			size_t n = cappatches ? cappatches * 2 : 256;
			struct patch *q = realloc(patches, n * sizeof(*q));
			if (!q)
				return;
			patches = q;
			cappatches = n;
		}
		p = &patches[npatches++];
		p->slot = slot;
	}
	p->orig = cur;
	p->mine = w;
	p->relro = in_relro(info, (uintptr_t)slot);
	if (!store(slot, w, p->relro))
		st__debug("cannot make a RELRO page writable", errno);
}

/* Index of NAME in wrapped[], or -1. */
static int wrapped_index(const char *name)
{
	for (size_t i = 0; i < NWRAPPED; i++)
		if (!strcmp(wrapped[i], name))
			return (int)i;
	return -1;
}

/* The dynamic-section value V as an address: glibc relocates most of
 * them in place, the vDSO's are left relative. */
static uintptr_t dyn_ptr(const struct dl_phdr_info *info, uintptr_t v)
{
	return v < info->dlpi_addr ? v + info->dlpi_addr : v;
}

/* Redirects the GOT entries of the wrapped names among SIZE bytes of
 * relocations R.  (clang-format would read ElfW(Rela) *r as a product.) */
/* clang-format off */
static void patch_relocs(const struct dl_phdr_info *info, const ElfW(Rela) *r,
			 size_t size, const ElfW(Sym) *syms, const char *strs)
/* clang-format on */
{
	for (size_t i = 0; i < size / sizeof(*r); i++) {
		unsigned type = ELF64_R_TYPE(r[i].r_info);
		if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
			continue;
		const ElfW(Sym) *s = &syms[ELF64_R_SYM(r[i].r_info)];
		if (!s->st_name || s->st_shndx != SHN_UNDEF)
			continue; /* the object's own definition */
		int k = wrapped_index(strs + s->st_name);
		if (k >= 0 && mine[k])
			redirect(info,
				 (uint64_t *)(info->dlpi_addr + r[i].r_offset),
				 k);
	}
}

/* Objects whose GOT is left alone: ourselves, the loader, libc (its
 * calls are internal, not through its GOT) and the vDSO. */
static bool skipped(const struct dl_phdr_info *info)
{
	const char *n = info->dlpi_name ? info->dlpi_name : "";
	const char *b = strrchr(n, '/');

	b = b ? b + 1 : n;
	return info->dlpi_addr == self_base || !strncmp(b, "ld-linux", 8) ||
	       !strncmp(b, "libc.so", 7) || !strncmp(b, "linux-vdso", 10) ||
	       !strncmp(b, "linux-gate", 10);
}

static int patch_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Dyn) *dyn = NULL;
	uintptr_t jmprel = 0, rela = 0, symtab = 0, strtab = 0;
	size_t pltsz = 0, relasz = 0;

	(void)size, (void)arg;
	if (skipped(info))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const void *)(info->dlpi_addr +
					     info->dlpi_phdr[i].p_vaddr);
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL:
			jmprel = dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		case DT_PLTRELSZ:
			pltsz = dyn->d_un.d_val;
			break;
		case DT_RELA:
			rela = dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		case DT_RELASZ:
			relasz = dyn->d_un.d_val;
			break;
		case DT_SYMTAB:
			symtab = dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			strtab = dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		}
	}
	if (!symtab || !strtab)
		return 0;
	if (jmprel)
		patch_relocs(info, (const void *)jmprel, pltsz,
			     (const void *)symtab, (const char *)strtab);
	if (rela)
		patch_relocs(info, (const void *)rela, relasz,
			     (const void *)symtab, (const char *)strtab);
	return 0;
}

/* Our own wrappers' addresses, by name, from our own symbol table (not
 * the global scope, where the names are libc's). */
static bool find_mine(void)
{
	Dl_info di;

	if (!dladdr((void *)find_mine, &di) || !di.dli_fname)
		return false;
	self_base = (uintptr_t)di.dli_fbase;
	void *self = dlopen(di.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	if (!self)
		return false;
	for (size_t i = 0; i < NWRAPPED; i++)
		mine[i] = dlsym(self, wrapped[i]);
	dlclose(self); /* only drops the count RTLD_NOLOAD added */
	return true;
}

/* Records every socket open now as seen before attach. */
static void enumerate(void)
{
	char buf[4096];
	long dfd = st__sys(SYS_openat, AT_FDCWD, (long)"/proc/self/fd",
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0, 0);
	long n;

	if (dfd < 0)
		return;
	while ((n = st__sys(SYS_getdents64, dfd, (long)buf, sizeof(buf), 0, 0,
			    0)) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (void *)(buf + off);
			char *e;
			long fd = strtol(d->d_name, &e, 10);
			off += d->d_reclen;
			if (*e || e == d->d_name || fd == dfd)
				continue;
			if (st__fd_state(st__fd_get((int)fd)) == ST_FD_UNKNOWN)
				st__fd_seen((int)fd, ST_SEEN_ATTACH);
		}
	}
	st__sys(SYS_close, dfd, 0, 0, 0, 0, 0);
}

/*
 * Called by socktrace attach (through ptrace, in a thread it stopped in
 * a blocking system call): records into DIR from now on, for LEASE_NS
 * unless the viewer renews the lease.  Returns 0 or -errno.  Calling it
 * again (a later attach) starts afresh: sockets are enumerated again.
 */
int socktrace_attach_init(const char *dir, uint64_t lease_ns)
{
	int e = errno;
	int rc = st__attach_start(dir);

	if (rc == 0 && !mine[0] && !find_mine())
		rc = -ENOENT;
	if (rc == 0)
		rc = st__writer_attach(st__now() + lease_ns);
	if (rc == 0) {
		page = sysconf(_SC_PAGESIZE);
		/* on before the GOTs point here: the first call through a
		 * redirected entry finds everything ready */
		__atomic_store_n(&st__state, ST_ON, __ATOMIC_RELEASE);
		dl_iterate_phdr(patch_object, NULL);
		enumerate();
	}
	errno = e;
	return rc;
}

/* Called by socktrace detach: recording stops and every GOT entry we
 * changed (and that still points at us) gets its original value back.
 * Returns 0, -EEXIST when preloaded (nothing to undo), or -EALREADY when
 * no entry pointed at us any more (detached already). */
int socktrace_detach(void)
{
	int e = errno;
	size_t restored = 0;

	if (!st__injected)
		return -EEXIST; /* preloaded: it records until it exits */
	__atomic_store_n(&st__state, ST_OFF, __ATOMIC_RELEASE);
	page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < npatches; i++) {
		struct patch *p = &patches[i];
		if (__atomic_load_n(p->slot, __ATOMIC_ACQUIRE) != p->mine)
			continue;
		store(p->slot, p->orig, p->relro);
		restored++;
	}
	errno = e;
	return restored ? 0 : -EALREADY;
}
