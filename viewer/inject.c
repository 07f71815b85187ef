/* SPDX-License-Identifier: MIT */
/* Loading libsocktrace.so into a running process and calling into it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject.h"
#include "proc.h"

#define ERR(...) (snprintf(err, len, __VA_ARGS__), -1)

/* Does this process have CAP_SYS_PTRACE (bit 19 of CapEff)? */
static bool cap_ptrace(void)
{
	char line[256];
	unsigned long long cap = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &cap) == 1)
			break;
	fclose(f);
	return cap & (1ull << 19);
}

static bool is_descendant(pid_t pid)
{
	pid_t self = getpid(), pp;

	for (int i = 0; i < 64 && pid > 1; i++) {
		if (!st_proc_state(pid, &pp))
			return false;
		if (pp == self)
			return true;
		pid = pp;
	}
	return false;
}

const char *st_inject_denied(pid_t pid, char *buf, size_t len)
{
	char v[16] = "";
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY);
	bool cap = cap_ptrace();

	if (fd >= 0) {
		ssize_t n = read(fd, v, sizeof(v) - 1);
		close(fd);
		v[n > 0 ? n : 0] = 0;
	}
	int scope = v[0] ? atoi(v) : 0;
	if (scope >= 3) {
		snprintf(buf, len,
			 "ptrace is switched off on this system "
			 "(kernel.yama.ptrace_scope = 3, until reboot): no "
			 "running process can be attached; start the server "
			 "with 'socktrace run' or LD_PRELOAD instead");
		return buf;
	}
	if (scope == 2 && !cap) {
		snprintf(buf, len,
			 "kernel.yama.ptrace_scope = 2 lets only root "
			 "(CAP_SYS_PTRACE) attach to a process: run socktrace "
			 "attach as root");
		return buf;
	}
	if (scope == 1 && !cap && !is_descendant(pid)) {
		snprintf(buf, len,
			 "kernel.yama.ptrace_scope = 1 lets a process attach "
			 "only to its own descendants: run socktrace attach as "
			 "root, or allow it with 'sysctl "
			 "kernel.yama.ptrace_scope=0'");
		return buf;
	}
	long euid = st_proc_euid(pid);
	if (!cap && euid >= 0 && (uid_t)euid != geteuid()) {
		snprintf(buf, len,
			 "permission denied: it runs as uid %ld and you are "
			 "uid %u; run socktrace as that user or as root "
			 "(CAP_SYS_PTRACE)",
			 euid, (unsigned)geteuid());
		return buf;
	}
	return NULL;
}

/*
 * The address of the dynamic symbol NAME of the ELF file mapped in PID
 * from PATH (file offset 0 at BASE): the file's own value plus the load
 * bias.  Returns 0 when it has no such symbol.
 */
static uint64_t elf_sym(pid_t pid, const char *path, uint64_t base,
			const char *name)
{
	char p[PATH_MAX + 64];
	struct stat st;
	uint64_t addr = 0;

	/* the file as the process sees it (its mount namespace) */
	snprintf(p, sizeof(p), "/proc/%d/root%s", (int)pid, path);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	const uint8_t *f =
		mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		return 0;
	size_t size = st.st_size;
	const Elf64_Ehdr *eh = (const void *)f;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size)
		goto out;
	/* load bias: where the segment at file offset 0 went, less its
	 * link-time address */
	const Elf64_Phdr *ph = (const void *)(f + eh->e_phoff);
	uint64_t vaddr0 = 0;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			vaddr0 = (ph[i].p_vaddr - ph[i].p_offset) &
				 ~(uint64_t)4095;
			break;
		}
	uint64_t bias = eh->e_type == ET_DYN ? base - vaddr0 : 0;
	const Elf64_Shdr *sh = (const void *)(f + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum && !addr; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
			continue;
		const Elf64_Shdr *strs = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > size ||
		    strs->sh_offset + strs->sh_size > size)
			continue;
		const Elf64_Sym *sym = (const void *)(f + sh[i].sh_offset);
		size_t n = sh[i].sh_size / sizeof(*sym);
		const char *str = (const char *)f + strs->sh_offset;
		for (size_t k = 0; k < n; k++) {
			if (sym[k].st_shndx == SHN_UNDEF ||
			    sym[k].st_name >= strs->sh_size ||
			    ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC ||
			    strncmp(str + sym[k].st_name, name,
				    strs->sh_size - sym[k].st_name) ||
			    sym[k].st_value == 0)
				continue;
			addr = bias + sym[k].st_value;
			break;
		}
	}
out:
	munmap((void *)f, size);
	return addr;
}

/* Where file PATH (or a file named like PREFIX...SUFFIX) is mapped at
 * offset 0 in PID. */
struct base_arg {
	const char *path, *prefix, *suffix;
	struct st_map m;
	bool found;
};

static bool base_one(const struct st_map *m, void *arg)
{
	struct base_arg *a = arg;
	const char *b = strrchr(m->path, '/');

	if (m->offset)
		return false;
	b = b ? b + 1 : m->path;
	if (a->path) {
		if (strcmp(m->path, a->path))
			return false;
	} else {
		size_t l = strlen(b), pl = strlen(a->prefix),
		       sl = strlen(a->suffix);
		if (l < pl + sl || strncmp(b, a->prefix, pl) ||
		    strcmp(b + l - sl, a->suffix))
			return false;
	}
	a->m = *m;
	a->found = true;
	return true;
}

static bool mapped_at(pid_t pid, const char *path, const char *prefix,
		      const char *suffix, struct st_map *out)
{
	struct base_arg a = { path, prefix, suffix, { 0 }, false };

	if (st_proc_maps(pid, base_one, &a) < 0 || !a.found)
		return false;
	*out = a.m;
	return true;
}

#if defined(__x86_64__)

/* One thread of the target, stopped, with its registers saved. */
struct remote {
	pid_t pid, tid;
	int mem; /* /proc/PID/mem */
	struct user_regs_struct saved;
	int pending[8]; /* signals that arrived meanwhile: sent again */
	int npending;
	uint64_t scratch; /* free stack below the thread's red zone */
	size_t used;
};

/*
 * System calls a thread can sit in for long while holding no lock of
 * libc's (malloc, stdio, the loader's): stopping it there to run dlopen
 * cannot deadlock.  A thread running user code might hold one.
 */
static bool safe_syscall(long nr)
{
	static const long ok[] = {
		SYS_read,
		SYS_poll,
		SYS_select,
		SYS_nanosleep,
		SYS_accept,
		SYS_accept4,
		SYS_recvfrom,
		SYS_recvmsg,
		SYS_wait4,
		SYS_pause,
		SYS_epoll_wait,
		SYS_epoll_pwait,
		SYS_ppoll,
		SYS_pselect6,
		SYS_clock_nanosleep,
		SYS_rt_sigsuspend,
		SYS_rt_sigtimedwait,
#ifdef SYS_epoll_pwait2
		SYS_epoll_pwait2,
#endif
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == nr)
			return true;
	return false;
}

/* A thread of PID waiting in a safe system call, or 0. */
static pid_t pick_thread(pid_t pid)
{
	char path[64];
	pid_t found = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && !found && (e = readdir(d))) {
		char p[128], buf[64];
		long tid = atol(e->d_name), nr;
		if (tid <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task/%ld/syscall", (int)pid,
			 tid);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		if (sscanf(buf, "%ld", &nr) == 1 && safe_syscall(nr))
			found = (pid_t)tid;
	}
	if (d)
		closedir(d);
	return found;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Is process PID still there (not gone, not a zombie)? */
static bool alive(pid_t pid)
{
	char st = st_proc_state(pid, NULL);

	return st && st != 'Z' && st != 'X';
}

/* Why waiting on the stopped thread failed, as the user sees it. */
static int gone(struct remote *r, int status, char *err, size_t len)
{
	if (WIFEXITED(status) || WIFSIGNALED(status) || errno == ECHILD ||
	    errno == ESRCH)
		return ERR("the process exited during attach (pid %d)",
			   (int)r->pid);
	return ERR("waiting for thread %d: %s", (int)r->tid, strerror(errno));
}

/* Lets thread R->tid go again after a failed stop: another is tried. */
static int retry(struct remote *r)
{
	ptrace(PTRACE_DETACH, r->tid, 0, 0);
	r->tid = 0;
	return 1;
}

/*
 * Stops thread TID of PID and saves its registers.  Returns 0 when it
 * stopped in a safe system call; 1 when another thread should be tried
 * (this one ended, or left its call); -1 with a message in ERR.
 */
static int stop_one(struct remote *r, pid_t pid, pid_t tid, char *err,
		    size_t len)
{
	int status;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
		if (errno == ESRCH)
			return 1; /* that thread just ended */
		if (errno == EPERM)
			return ERR("ptrace: permission denied: run socktrace "
				   "as the process's user or as root "
				   "(CAP_SYS_PTRACE); a security module or "
				   "another tracer (a debugger, strace) may "
				   "also prevent it");
		return ERR("ptrace: %s", strerror(errno));
	}
	r->tid = tid;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
	    waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status)) {
		if (!alive(pid))
			return gone(r, status, err, len);
		/* that thread ended (a server's thread per connection, say):
		 * pick another */
		return retry(r);
	}
	/* a signal may come first: keep it for later, wait again */
	while (status >> 16 != PTRACE_EVENT_STOP) {
		if (r->npending < 8)
			r->pending[r->npending++] = WSTOPSIG(status);
		if (ptrace(PTRACE_CONT, tid, 0, 0) ||
		    waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status))
			break;
	}
	if (!WIFSTOPPED(status) || status >> 16 != PTRACE_EVENT_STOP) {
		if (!alive(pid))
			return gone(r, status, err, len);
		r->npending = 0;
		return retry(r);
	}
	if (ptrace(PTRACE_GETREGS, tid, 0, &r->saved))
		return ERR("ptrace: %s", strerror(errno));
	/* it left that call in between: let it go, retry */
	return safe_syscall((long)r->saved.orig_rax) ? 0 : retry(r);
}

/*
 * Stops one thread of PID that waits in a safe system call and saves
 * its registers.  Retries for about 2 s while every thread is busy.
 */
static int seize(struct remote *r, pid_t pid, char *err, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->mem = -1;
	for (int tries = 0; tries < 400; tries++) {
		if (!alive(pid))
			return ERR("the process exited during attach (pid %d)",
				   (int)pid);
		pid_t tid = pick_thread(pid);
		if (!tid) {
			if (tries == 0)
				fprintf(stderr,
					"socktrace: waiting for a thread of "
					"process %d to wait in a system call, "
					"where it can safely be stopped\n",
					(int)pid);
			sleep_ms(5);
			continue;
		}
		int rc = stop_one(r, pid, tid, err, len);
		if (rc < 0)
			return rc;
		if (rc > 0)
			continue;
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/mem", (int)pid);
		r->mem = open(p, O_RDWR | O_CLOEXEC);
		if (r->mem < 0)
			return ERR("%s: %s", p, strerror(errno));
		/* below the 128-byte red zone, 64 KiB of the thread's stack
		 * are ours while it is stopped */
		r->scratch = (r->saved.rsp - 128 - 4096) & ~(uint64_t)15;
		return 0;
	}
	return ERR("no thread of process %d is waiting in a system call "
		   "where it can safely be stopped (all busy running code); "
		   "try again when it is less busy",
		   (int)pid);
}

/* Puts back the registers and lets the thread go, with any signal that
 * arrived while it was stopped. */
static void release(struct remote *r)
{
	if (r->tid) {
		ptrace(PTRACE_SETREGS, r->tid, 0, &r->saved);
		ptrace(PTRACE_DETACH, r->tid, 0,
		       r->npending ? r->pending[0] : 0);
		for (int i = 1; i < r->npending; i++)
			syscall(SYS_tgkill, r->pid, r->tid, r->pending[i]);
	}
	if (r->mem >= 0)
		close(r->mem);
	r->tid = 0;
	r->mem = -1;
}

/* Copies string S into the scratch area; returns its address in the
 * target, or 0. */
static uint64_t put_str(struct remote *r, const char *s)
{
	size_t n = strlen(s) + 1;

	if (r->used + n > 4096 - 64)
		return 0;
	uint64_t at = r->scratch + r->used;
	if (pwrite(r->mem, s, n, (off_t)at) != (ssize_t)n)
		return 0;
	r->used += (n + 15) & ~(size_t)15;
	return at;
}

/*
 * Calls FN(A0, A1) in the stopped thread and returns its result in RET.
 * The call returns to address 0, which faults: that fault is the end of
 * the call, and it never reaches the program (its registers are put
 * back before it runs on).
 */
static int call(struct remote *r, uint64_t fn, uint64_t a0, uint64_t a1,
		uint64_t *ret, char *err, size_t len)
{
	struct user_regs_struct regs = r->saved;
	uint64_t zero = 0;
	int status;

	/* the call's stack starts below the scratch strings, 16-aligned at
	 * the call, with the return address 0 pushed */
	uint64_t sp = ((r->scratch - 64) & ~(uint64_t)15) - 8;
	if (pwrite(r->mem, &zero, 8, (off_t)sp) != 8)
		return ERR("cannot write to the process's stack: %s",
			   strerror(errno));
	regs.rsp = sp;
	regs.rip = fn;
	regs.rdi = a0;
	regs.rsi = a1;
	regs.rax = 0;
	/* not in a system call any more: no restart may move rip back */
	regs.orig_rax = (uint64_t)-1;
	if (ptrace(PTRACE_SETREGS, r->tid, 0, &regs) ||
	    ptrace(PTRACE_CONT, r->tid, 0, 0))
		return ERR("ptrace: %s", strerror(errno));
	for (;;) {
		if (waitpid(r->tid, &status, __WALL) != r->tid ||
		    !WIFSTOPPED(status)) {
			r->tid = 0; /* nothing left to put back */
			return gone(r, status, err, len);
		}
		int sig = WSTOPSIG(status);
		if (status >> 16 == 0 && sig == SIGSEGV) {
			if (ptrace(PTRACE_GETREGS, r->tid, 0, &regs))
				return ERR("ptrace: %s", strerror(errno));
			if (regs.rip != 0)
				return ERR("the call into the process crashed "
					   "at %#llx (SIGSEGV); its registers "
					   "were put back",
					   (unsigned long long)regs.rip);
			*ret = regs.rax;
			return 0;
		}
		if (status >> 16 == 0 && r->npending < 8)
			r->pending[r->npending++] = sig;
		if (ptrace(PTRACE_CONT, r->tid, 0, 0))
			return ERR("ptrace: %s", strerror(errno));
	}
}

/* Reads a NUL-terminated string at ADDR in the target into BUF. */
static void get_str(struct remote *r, uint64_t addr, char *buf, size_t n)
{
	ssize_t got = addr ? pread(r->mem, buf, n - 1, (off_t)addr) : -1;

	buf[got > 0 ? got : 0] = 0;
	buf[strnlen(buf, n - 1)] = 0;
}

/* Loads LIB with the target's own dlopen, unless it is mapped already;
 * its mapping in *LM. */
static int load(struct remote *r, const char *lib, struct st_map *lm, char *err,
		size_t len)
{
	struct st_map libc;
	uint64_t ret;

	if (mapped_at(r->pid, NULL, "libsocktrace", ".so", lm))
		return 0;
	if (!mapped_at(r->pid, NULL, "libc.so", "", &libc) &&
	    !mapped_at(r->pid, NULL, "libc-", ".so", &libc))
		return ERR("it has no dynamic libc loaded");
	uint64_t dlopen_at = elf_sym(r->pid, libc.path, libc.start, "dlopen");
	uint64_t mode = RTLD_NOW;
	if (!dlopen_at) {
		/* glibc before 2.34 keeps dlopen in libdl; this one is
		 * always in libc */
		dlopen_at = elf_sym(r->pid, libc.path, libc.start,
				    "__libc_dlopen_mode");
		mode |= 0x80000000; /* __RTLD_DLOPEN */
	}
	if (!dlopen_at)
		return ERR("no dlopen in its libc (%s): only glibc is "
			   "supported",
			   libc.path);
	uint64_t path = put_str(r, lib);
	if (!path)
		return ERR("cannot write to the process's stack");
	if (call(r, dlopen_at, path, mode, &ret, err, len))
		return -1;
	if (!ret) {
		char why[512] = "";
		uint64_t dlerror_at =
			elf_sym(r->pid, libc.path, libc.start, "dlerror");
		uint64_t msg;
		if (dlerror_at && !call(r, dlerror_at, 0, 0, &msg, err, len))
			get_str(r, msg, why, sizeof(why));
		return ERR("its dlopen could not load %s: %s", lib,
			   why[0] ? why : "(no reason given)");
	}
	if (!mapped_at(r->pid, NULL, "libsocktrace", ".so", lm))
		return ERR("%s was loaded but is not mapped", lib);
	return 0;
}

int st_inject_attach(pid_t pid, const char *lib, const char *dir,
		     uint64_t lease_ns, char *err, size_t len)
{
	struct remote r;
	struct st_map lm;
	uint64_t ret;

	if (seize(&r, pid, err, len)) {
		release(&r);
		return -1;
	}
	int rc = load(&r, lib, &lm, err, len);
	if (!rc) {
		uint64_t fn = elf_sym(pid, lm.path, lm.start,
				      "socktrace_attach_init");
		uint64_t d = put_str(&r, dir);
		if (!fn)
			rc = ERR("%s has no socktrace_attach_init: it is from "
				 "another socktrace version",
				 lm.path);
		else if (!d)
			rc = ERR("cannot write to the process's stack");
		else if (!(rc = call(&r, fn, d, lease_ns, &ret, err, len)) &&
			 (int)ret == -EEXIST)
			rc = 1; /* preloaded after all: it records already */
		else if (!rc && (int)ret < 0)
			rc = ERR("the library cannot record into %s: %s "
				 "(the directory must belong to the process's "
				 "user, uid %ld, and not be writable by "
				 "others; choose one with -o)",
				 dir, strerror(-(int)ret), st_proc_euid(pid));
	}
	release(&r);
	return rc;
}

int st_inject_detach(pid_t pid, const char *lib, char *err, size_t len)
{
	struct remote r;
	struct st_map lm;
	uint64_t ret;

	if (!mapped_at(pid, lib, NULL, NULL, &lm))
		return ERR("libsocktrace.so is not loaded");
	uint64_t fn = elf_sym(pid, lm.path, lm.start, "socktrace_detach");
	if (!fn)
		return ERR("%s has no socktrace_detach: it is from another "
			   "socktrace version",
			   lm.path);
	if (seize(&r, pid, err, len)) {
		release(&r);
		return -1;
	}
	int rc = call(&r, fn, 0, 0, &ret, err, len);
	release(&r);
	if (!rc && (int)ret == -EEXIST)
		rc = ERR("it was started with libsocktrace.so preloaded: it "
			 "records until it exits; there is nothing to detach");
	else if (!rc && (int)ret == -EALREADY)
		rc = ERR("it is not attached (detached already): there is "
			 "nothing to detach; 'socktrace attach %d' traces it "
			 "again",
			 (int)pid);
	return rc;
}

#else

int st_inject_attach(pid_t pid, const char *lib, const char *dir,
		     uint64_t lease_ns, char *err, size_t len)
{
	(void)pid, (void)lib, (void)dir, (void)lease_ns;
	return ERR("loading the library into a running process is only "
		   "implemented for x86_64: start the program with 'socktrace "
		   "run' or LD_PRELOAD");
}

int st_inject_detach(pid_t pid, const char *lib, char *err, size_t len)
{
	(void)pid, (void)lib;
	return ERR("detach is only implemented for x86_64");
}

#endif
