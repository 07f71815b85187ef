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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload_lib.h"

int st_find_lib(char *out, size_t len, const char *cmd)
{
	char self[PATH_MAX];
	const char *env = getenv("SOCKTRACE_LIB");

	if (env && *env) {
		if (access(env, R_OK)) {
			fprintf(stderr, "socktrace %s: SOCKTRACE_LIB=%s: %s\n",
				cmd, env, strerror(errno));
			return -1;
		}
		snprintf(out, len, "%s", env);
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		const char *d = dirname(self);
		static const char *const where[] = { "", "/../lib" };
		for (size_t i = 0; i < 2; i++) {
			snprintf(out, len, "%s%s/libsocktrace.so", d, where[i]);
			if (!access(out, R_OK))
				return 0;
		}
	}
	fprintf(stderr,
		"socktrace %s: libsocktrace.so not found beside the socktrace "
		"binary or in ../lib: set SOCKTRACE_LIB to its path\n",
		cmd);
	return -1;
}

const char *st_invisible(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const char *why = NULL;

	if (fd < 0)
		return NULL;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto out; /* a script or another format: its interpreter runs */
	bool interp = false;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph),
			  eh.e_phoff + i * eh.e_phentsize) != sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP)
			interp = true;
	}
	if (!interp) {
		why = "it is statically linked: there is no dynamic loader to "
		      "preload libsocktrace.so";
		goto out;
	}
	Elf64_Shdr sh, strs;
	if (eh.e_shstrndx == SHN_UNDEF ||
	    pread(fd, &strs, sizeof(strs),
		  eh.e_shoff + eh.e_shstrndx * eh.e_shentsize) != sizeof(strs))
		goto out;
	for (int i = 0; i < eh.e_shnum; i++) {
		char name[32] = "";
		if (pread(fd, &sh, sizeof(sh),
			  eh.e_shoff + i * eh.e_shentsize) != sizeof(sh) ||
		    pread(fd, name, sizeof(name) - 1,
			  strs.sh_offset + sh.sh_name) < 0)
			break;
		if (!strcmp(name, ".go.buildinfo") ||
		    !strcmp(name, ".note.go.buildid")) {
			why = "it is a Go program: Go makes its socket system "
			      "calls directly, not through libc";
			break;
		}
	}
out:
	close(fd);
	return why;
}
