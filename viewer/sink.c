/* SPDX-License-Identifier: MIT */
/* What the output sinks share: their files and the end of stdout. */
#include <errno.h>
#include <string.h>

#include "sink.h"
#include "units.h"

FILE *st_sink_file_open(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fprintf(stderr, "socktrace: cannot write %s: %s\n", path,
			strerror(errno));
	return f;
}

int st_sink_file_close(FILE *f, const char *path, int rc, uint64_t conns)
{
	if (fclose(f) || rc) {
		fprintf(stderr, "socktrace: write error on %s\n", path);
		return -1;
	}
	fprintf(stderr, "socktrace: wrote %s (%llu connection%s)\n", path,
		(unsigned long long)conns, st_plural(conns));
	return 0;
}

int st_sink_stdout_end(struct st_out *o)
{
	if (st_out_flush(o)) {
		fprintf(stderr, "socktrace: write error on output\n");
		return -1;
	}
	return 0;
}
