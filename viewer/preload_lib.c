/* SPDX-License-Identifier: MIT */
/* Finding libsocktrace.so, and the programs it cannot trace. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload_lib.h"

int st_find_lib(char *out, size_t len, const char *cmd, enum st_libc libc)
{
	char self[PATH_MAX];
	const char *env = getenv("SOCKTRACE_LIB");
	const char *name = libc == ST_LIBC_MUSL ? "libsocktrace-musl.so"
						: "libsocktrace.so";

	if (env && *env) {
		snprintf(self, sizeof(self), "%s", env);
		if (libc == ST_LIBC_MUSL)
			snprintf(out, len, "%s/%s", dirname(self), name);
		else
			snprintf(out, len, "%s", env);
		if (access(out, R_OK)) {
			fprintf(stderr,
				"socktrace %s: SOCKTRACE_LIB=%s: %s: %s\n", cmd,
				env, out, strerror(errno));
			return -1;
		}
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		const char *d = dirname(self);
		static const char *const where[] = { "", "/../lib" };
		for (size_t i = 0; i < 2; i++) {
			snprintf(out, len, "%s%s/%s", d, where[i], name);
			if (!access(out, R_OK))
				return 0;
		}
	}
	if (libc == ST_LIBC_MUSL)
		fprintf(stderr,
			"socktrace %s: the program is linked against musl "
			"libc, and %s (the library built with musl-gcc) is not "
			"beside the socktrace binary or in ../lib: install "
			"musl-tools and run make again\n",
			cmd, name);
	else
		fprintf(stderr,
			"socktrace %s: %s not found beside the socktrace "
			"binary or in ../lib: set SOCKTRACE_LIB to its path\n",
			cmd, name);
	return -1;
}

/* Section I of the ELF file FD (header EH) into SH; false if unreadable. */
static bool section(int fd, const Elf64_Ehdr *eh, int i, Elf64_Shdr *sh)
{
	return i > 0 && i < eh->e_shnum &&
	       pread(fd, sh, sizeof(*sh),
		     (off_t)(eh->e_shoff + (uint64_t)i * eh->e_shentsize)) ==
		       sizeof(*sh);
}

/* The contents of section SH of FD (at most 64 MiB), or NULL. */
static char *contents(int fd, const Elf64_Shdr *sh)
{
	char *b;

	if (sh->sh_size == 0 || sh->sh_size > (64u << 20) ||
	    !(b = malloc(sh->sh_size + 1)))
		return NULL;
	if (pread(fd, b, sh->sh_size, (off_t)sh->sh_offset) !=
	    (ssize_t)sh->sh_size) {
		free(b);
		return NULL;
	}
	b[sh->sh_size] = 0;
	return b;
}

/* Libraries every dynamic Go program may need without making a socket
 * call through them (the C resolver's are libc's own). */
static bool libc_family(const char *lib)
{
	static const char *const libs[] = { "libc.so",	"libpthread.so",
					    "libdl.so", "libresolv.so",
					    "ld-linux", "libm.so" };

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		if (!strncmp(lib, libs[i], strlen(libs[i])))
			return true;
	return false;
}

static bool socket_call(const char *name)
{
	static const char *const calls[] = { "socket",	"connect", "accept",
					     "accept4", "bind",	   "listen" };

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(name, calls[i]))
			return true;
	return false;
}

/*
 * Whether the dynamic section or symbols SH (SHT_DYNAMIC or SHT_DYNSYM)
 * of FD reach libc's socket calls: a library beyond libc's family is
 * needed (libpq, libcurl: C code that makes them), or a socket call is
 * imported.
 */
static bool reaches_sockets(int fd, const Elf64_Ehdr *eh, const Elf64_Shdr *sh)
{
	Elf64_Shdr strsh;
	char *data, *strs;
	bool yes = false;

	if (!section(fd, eh, (int)sh->sh_link, &strsh))
		return false;
	data = contents(fd, sh);
	strs = contents(fd, &strsh);
	for (size_t o = 0; data && strs && o + sh->sh_entsize <= sh->sh_size &&
			   sh->sh_entsize && !yes;
	     o += sh->sh_entsize) {
		if (sh->sh_type == SHT_DYNAMIC) {
			const Elf64_Dyn *d = (const void *)(data + o);
			yes = d->d_tag == DT_NEEDED &&
			      d->d_un.d_val < strsh.sh_size &&
			      !libc_family(strs + d->d_un.d_val);
		} else {
			const Elf64_Sym *y = (const void *)(data + o);
			yes = y->st_shndx == SHN_UNDEF &&
			      y->st_name < strsh.sh_size &&
			      socket_call(strs + y->st_name);
		}
	}
	free(data);
	free(strs);
	return yes;
}

/* Is the ELF file FD (header EH) a Go program?  *CGO: one whose C part
 * reaches libc's socket calls. */
static bool go_program(int fd, const Elf64_Ehdr *eh, bool *cgo)
{
	Elf64_Shdr sh, strs;
	bool go = false;

	*cgo = false;
	if (eh->e_shstrndx == SHN_UNDEF ||
	    !section(fd, eh, eh->e_shstrndx, &strs))
		return false;
	for (int i = 1; i < eh->e_shnum; i++) {
		char name[32] = "";
		if (!section(fd, eh, i, &sh) ||
		    pread(fd, name, sizeof(name) - 1,
			  (off_t)(strs.sh_offset + sh.sh_name)) < 0)
			break;
		if (!strcmp(name, ".go.buildinfo") ||
		    !strcmp(name, ".note.go.buildid"))
			go = true;
		if ((sh.sh_type == SHT_DYNAMIC || sh.sh_type == SHT_DYNSYM) &&
		    !*cgo)
			*cgo = reaches_sockets(fd, eh, &sh);
	}
	return go;
}

/* The loader FD (header EH) names in PT_INTERP into INTERP ("?" if
 * unreadable); false if it has none (static). */
static bool interp_of(int fd, const Elf64_Ehdr *eh, char interp[PATH_MAX])
{
	interp[0] = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph),
			  (off_t)(eh->e_phoff +
				  (uint64_t)i * eh->e_phentsize)) != sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP) {
			ssize_t n = pread(fd, interp, PATH_MAX - 1,
					  (off_t)ph.p_offset);
			if (n <= 0)
				strcpy(interp, "?");
			else
				interp[n] = 0;
		}
	}
	return interp[0];
}

/* PATH opened, its ELF header in EH; -1 if it is not a 64-bit ELF file
 * (a script or another format). */
static int open_elf(const char *path, Elf64_Ehdr *eh)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && (pread(fd, eh, sizeof(*eh), 0) != sizeof(*eh) ||
			memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
			eh->e_ident[EI_CLASS] != ELFCLASS64)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

enum st_libc st_program_libc(const char *path)
{
	Elf64_Ehdr eh;
	char interp[PATH_MAX];
	int fd = open_elf(path, &eh);
	bool musl = fd >= 0 && interp_of(fd, &eh, interp) &&
		    strstr(interp, "ld-musl");

	if (fd >= 0)
		close(fd);
	return musl ? ST_LIBC_MUSL : ST_LIBC_GLIBC;
}

/* Do files A and B lead to the same file? */
static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

bool st_preload_tree(char *out, size_t len, const char *lib, enum st_libc libc)
{
	char dir[PATH_MAX], tree[PATH_MAX + 32], p[PATH_MAX + 64];

	snprintf(dir, sizeof(dir), "%s", lib);
	snprintf(tree, sizeof(tree), "%s/socktrace-preload", dirname(dir));
	/* the link musl reads, or one of glibc's (the tree has them all) */
	snprintf(p, sizeof(p), "%s/%s/libsocktrace.so", tree,
		 libc == ST_LIBC_MUSL ? "$LIB" : "lib");
	if (!same_file(p, lib))
		return false;
	snprintf(out, len, "%s/$LIB/libsocktrace.so", tree);
	return true;
}
const char *st_invisible(const char *path, const char **partly)
{
	Elf64_Ehdr eh;
	int fd = open_elf(path, &eh);
	const char *why = NULL;
	bool cgo;

	*partly = NULL;
	if (fd < 0)
		return NULL; /* a script or another format: its interpreter runs
			      */
	char interp[PATH_MAX];
	if (!interp_of(fd, &eh, interp)) {
		why = "it is statically linked: there is no dynamic loader to "
		      "preload libsocktrace.so";
		goto out;
	}
	if (!go_program(fd, &eh, &cgo))
		goto out;
	if (cgo)
		*partly = "a Go program: the socket calls its C code makes "
			  "(cgo) are seen, Go's own are not";
	else
		why = "it is a Go program: Go makes its socket system calls "
		      "directly, not through libc, and it reaches no libc "
		      "socket call (no cgo library that makes them)";
out:
	close(fd);
	return why;
}
