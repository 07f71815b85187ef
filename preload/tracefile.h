/* SPDX-License-Identifier: MIT */
/* The trace file's place and identity: its directory, name and header. */
#ifndef ST_PRELOAD_TRACEFILE_H
#define ST_PRELOAD_TRACEFILE_H

#include "base.h"

/* Opens the trace directory (SOCKTRACE_DIR), making it 0700 if it is
 * not there; refuses one that is a symlink, not this user's, or
 * writable by others (says why with SOCKTRACE_DEBUG).  Its fd, or -1. */
long st__trace_dir_open(void);
/*
 * Creates this process's file in directory DFD, named after COMM and the
 * pid; an exec'd image of the same pid, or an old run, has the name
 * already: then the next free one.  Its fd (NAME its name), or -1.
 */
long st__trace_file_new(long dfd, const char *comm, char *name, size_t len);
/* Fills a new file's header H, CAPACITY slots; COMM is the thread's
 * name, read already for the file's name.  The program image, host and
 * boot id (and net.core.somaxconn) are read once per image. */
void st__header_fill(struct st_header *h, const char *comm, uint64_t capacity);
/* Append S, or V in decimal, at P within END, NUL-terminated; return
 * the new end. */
char *st__put_s(char *p, const char *end, const char *s);
char *st__put_u(char *p, const char *end, unsigned long v);

#endif
