/* SPDX-License-Identifier: MIT */
/* The ptrace mode's trace files: written, then read back by trace.c. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ptrace_file.h"
#include "trace.h"

/* Records written by the tracer read back whole and in order, with the
 * header saying which mode wrote them and this process's identity; the
 * file grows past its first chunk. */
static void test_round_trip(void **state)
{
	(void)state;
	char dir[] = "/tmp/st-ptrace-file-XXXXXX", err[ST_ERR_LEN];
	char path[128];
	struct st_pfile f;
	struct st_trace t;
	uint64_t n = ST_CHUNK_SLOTS + 10;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(
		st_pfile_open(&f, dir, getpid(), getppid(), ST_SOURCE_PTRACE),
		0);
	for (uint64_t i = 0; i < n; i++) {
		struct st_rec r;
		memset(&r, 0, sizeof(r));
		r.ts = 1000 + i;
		r.call = ST_CALL_socket;
		r.fd = (int32_t)i;
		r.ret = (int64_t)i;
		assert_true(st_pfile_put(&f, &r));
	}
	st_pfile_exit(&f, 77);
	st_pfile_close(&f);
	char comm[16] = "";
	FILE *c = fopen("/proc/self/comm", "r");
	assert_non_null(c);
	assert_non_null(fgets(comm, sizeof(comm), c));
	fclose(c);
	comm[strcspn(comm, "\n")] = 0;
	for (char *p = comm; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ"
			    "0123456789-_",
			    *p))
			*p = '_';
	snprintf(path, sizeof(path), "%s/%s-%d.trace", dir, comm,
		 (int)getpid());
	assert_int_equal(st_trace_open(&t, path, err), 0);
	assert_int_equal(t.hdr.source, ST_SOURCE_PTRACE);
	assert_int_equal(t.hdr.pid, getpid());
	assert_int_equal(t.hdr.exit_ts, 77);
	assert_int_equal(t.end - t.first, n);
	assert_int_equal(t.lost, 0);
	for (uint64_t i = 0; i < n; i += ST_CHUNK_SLOTS / 2) {
		struct st_rec r;
		assert_int_equal(st_trace_get(&t, i, &r), 1);
		assert_int_equal(r.fd, (int32_t)i);
		assert_int_equal(r.ts, 1000 + i);
	}
	st_trace_close(&t);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
