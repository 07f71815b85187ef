/* SPDX-License-Identifier: MIT */
/* Removing the trace files of finished runs from a directory, safely. */
#ifndef ST_VIEWER_CLEAN_H
#define ST_VIEWER_CLEAN_H

#include <stdbool.h>

#define ST_CLEAN_NAMES 3 /* names kept to show, of each kind */

/* What cleaning a directory did (or, dry, would do). */
struct st_clean {
	int removed; /* trace files of processes that ended */
	int running; /* trace files a running process still maps */
	int foreign; /* entries socktrace did not write, left alone */
	int failed;  /* trace files that could not be removed */
	char running_names[ST_CLEAN_NAMES][64]; /* "nginx[812]" */
	char foreign_names[ST_CLEAN_NAMES][256];
	bool dir_removed; /* a run's directory, emptied, removed too */
};

/*
 * Removes from directory DIR every trace file socktrace wrote (a regular
 * file of this user named COMM-PID[.N].trace whose header is a trace
 * header of that pid) whose process no longer runs (no live process maps
 * it); leaves everything else, counted in *OUT.  A directory 'socktrace
 * run' made (socktrace-run.*) is removed too once it is empty.  With DRY,
 * only counts.  0, or -1 with a message in ERR (LEN bytes) naming DIR:
 * it is missing (errno ENOENT), not a directory, a symlink, not this
 * user's or writable by others (then nothing in it is touched).
 */
int st_clean_dir(const char *dir, bool dry, struct st_clean *out, char *err,
		 size_t len);

#endif
