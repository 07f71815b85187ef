/* SPDX-License-Identifier: MIT */
/* What /proc says about a running process: mappings, environment, users. */
#ifndef ST_VIEWER_PROC_H
#define ST_VIEWER_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One file mapping of a process, from /proc/PID/maps. */
struct st_map {
	uint64_t start, end, offset;
	char perms[5];
	char path[4096];
};

/*
 * Calls FN for every mapping of PID that names a file (deleted files
 * excluded); FN returns true to stop.  Returns 0, or -errno when the
 * maps cannot be read (ENOENT: no such process, EACCES: not allowed).
 */
int st_proc_maps(pid_t pid, bool (*fn)(const struct st_map *m, void *arg),
		 void *arg);

/* The first mapping of PID whose file name (last path part) starts with
 * PREFIX and ends with SUFFIX; 1 found, 0 not, -errno as above. */
int st_proc_find(pid_t pid, const char *prefix, const char *suffix,
		 struct st_map *out);

/* Variable NAME of PID's initial environment into BUF ("" and false when
 * not set or unreadable). */
bool st_proc_env(pid_t pid, const char *name, char *buf, size_t len);

/* Effective uid of PID, or -1. */
long st_proc_euid(pid_t pid);

/* 'R', 'S', 'Z'... of PID (0 when gone); its parent in *PPID. */
char st_proc_state(pid_t pid, pid_t *ppid);

/* Every descendant of PID (children, theirs...), appended to LIST of
 * *N entries (capacity CAP); returns the new count. */
int st_proc_descendants(pid_t pid, pid_t *list, int n, int cap);

struct st_trace;
/* Is the process behind trace file T alive (same boot, same program)?
 * The model's liveness callback (st_alive_fn); ARG is unused. */
bool st_proc_alive(const struct st_trace *t, void *arg);

/* Parses a process id; false when S is not a positive number. */
bool st_parse_pid(const char *s, pid_t *out);
/* Says on stderr why PID cannot be looked at (ERR an errno), as a user
 * can act on it; returns the exit code, 1. */
int st_no_process(const char *cmd, pid_t pid, int err);

#endif
