/* SPDX-License-Identifier: MIT */
/* socktrace attach: follow running processes live. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "model.h"
#include "follow.h"
#include "opts.h"
#include "show.h"

struct attach {
	struct st_view_opts vo;
	bool history;
	double duration;
	struct st_follow fw;
	struct st_show *show;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace attach [OPTIONS] PID...\n"
		"Shows the connections of running processes live: a timeline "
		"when a\nconnection closes, the ones still open at the end.  "
		"Stops on Ctrl-C,\nafter --duration, or when the processes "
		"have exited; they keep running\nas before.  A process "
		"started with libsocktrace.so preloaded is followed\nfrom its "
		"trace file; into any other, the library is loaded (ptrace).\n"
		"A static, Go or musl program is followed with ptrace itself "
		"instead:\nevery system call it makes stops, at strace's "
		"cost, until attach stops.\n"
		"  --history       also show what a preloaded process recorded "
		"before\n"
		"  --duration S    stop after S seconds\n"
		"  --children      also every descendant of each PID (nginx "
		"workers...)\n"
		"  -v, --verbose   also say when each process exits (by "
		"default stderr\n"
		"                  has one line per process followed)\n"
		"  -o DIR          trace directory for processes the library "
		"is loaded\n"
		"                  into (default: $SOCKTRACE_DIR of the "
		"process, else\n"
		"                  /tmp/socktrace-UID); it must belong to the "
		"process's user\n"
		"VIEW OPTIONS as for 'socktrace view': --json, --pid, --conn, "
		"--port,\n-t, --color, --no-color, and the filters --state, "
		"--finding, --since,\n--until, --min-duration, --peer, "
		"--listener.\n"
		"When it stops, recording in the processes it loaded the "
		"library into is\nswitched off; 'socktrace detach PID' also "
		"puts their calls back as they\nwere.\n");
}

static void on_file(void *arg, int file)
{
	struct attach *a = arg;

	st_show_process(a->show, file);
}

static void on_refreshed(void *arg)
{
	struct attach *a = arg;

	st_model_set_changed(st_show_model(a->show));
}

static void on_record(void *arg, const struct st_rec *r, int file)
{
	struct attach *a = arg;

	st_show_record(a->show, r, file);
}

/* What preloaded processes recorded before attach was read quietly
 * (unless --history): their open connections are known. */
static void on_history_done(void *arg)
{
	struct attach *a = arg;

	st_show_quiet(a->show, false);
	if (!a->history)
		st_model_mark_attach(st_show_model(a->show));
}

static void on_note(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "socktrace: %s\n", msg);
}

static int follow(struct attach *a)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t end = a->duration > 0
			       ? a->fw.start + (uint64_t)(a->duration * 1e9)
			       : 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	st_show_quiet(a->show, !a->history);
	st_follow_begin(&a->fw);
	while (!stop) {
		long n = st_follow_poll(&a->fw);
		/* a process that exited ends its connections now, not at the
		 * next record of another (a forked child's last connection) */
		if (a->fw.begun)
			st_model_reap(st_show_model(a->show), st_now_ns());
		if (st_show_flush(a->show))
			break; /* output closed (a pipe's reader went away) */
		if (n < 0) {
			fprintf(stderr, "socktrace: every process followed has "
					"exited\n");
			break;
		}
		if (end && st_now_ns() >= end)
			break;
		struct timespec ts = { 0, ST_FOLLOW_TICK_NS };
		nanosleep(&ts, NULL);
	}
	st_follow_end(&a->fw);
	return 0;
}

/* Takes attach's own options out of ARGV (view's stay, for
 * st_view_parse) into A; 0, or -1 after a usage error was said. */
static int take_opts(struct attach *a, int *argc, char **argv)
{
	for (int i = 1; i < *argc;) {
		int take = 0;
		char *e;
		if (!strcmp(argv[i], "--history")) {
			a->history = true;
			take = 1;
		} else if (!strcmp(argv[i], "--children")) {
			a->fw.children = true;
			take = 1;
		} else if (!strcmp(argv[i], "--verbose") ||
			   !strcmp(argv[i], "-v")) {
			a->fw.verbose = true;
			take = 1;
		} else if (!strcmp(argv[i], "--duration") ||
			   !strcmp(argv[i], "-o")) {
			if (i + 1 >= *argc) {
				fprintf(stderr,
					"socktrace attach: %s needs a value\n",
					argv[i]);
				usage(stderr);
				return -1;
			}
			if (argv[i][1] == 'o') {
				a->fw.outdir = argv[i + 1];
			} else {
				a->duration = strtod(argv[i + 1], &e);
				if (*e || e == argv[i + 1] ||
				    !(a->duration > 0)) {
					fprintf(stderr,
						"socktrace attach: bad value "
						"for --duration: '%s' "
						"(seconds, more than 0)\n",
						argv[i + 1]);
					usage(stderr);
					return -1;
				}
			}
			take = 2;
		} else if (!strcmp(argv[i], "--")) {
			break;
		}
		if (!take) {
			i++;
			continue;
		}
		memmove(&argv[i], &argv[i + take],
			(*argc - i - take + 1) * sizeof(char *));
		*argc -= take;
	}
	return 0;
}

int st_cmd_attach(int argc, char **argv)
{
	struct attach a;
	int rc = 0;

	memset(&a, 0, sizeof(a));
	a.fw.cmd = "attach";
	a.fw.ops = (struct st_follow_ops){ .file = on_file,
					   .refreshed = on_refreshed,
					   .record = on_record,
					   .history_done = on_history_done,
					   .note = on_note };
	a.fw.arg = &a;
	/* our options first; the rest are view's */
	if (take_opts(&a, &argc, argv))
		return 2;
	optind = 1;
	int p = st_view_parse(argc, argv, &a.vo, usage);
	if (p)
		return p < 0 ? 2 : 0;
	if (optind >= argc) {
		fprintf(stderr, "socktrace attach: no process given\n");
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		pid_t pid;
		if (!st_parse_pid(argv[i], &pid)) {
			fprintf(stderr,
				"socktrace attach: not a process id: '%s'\n",
				argv[i]);
			usage(stderr);
			st_follow_free(&a.fw);
			return 2;
		}
		st_follow_add(&a.fw, pid);
	}
	rc = st_follow_prepare(&a.fw);
	if (rc) {
		st_follow_free(&a.fw);
		return rc;
	}
	a.show = st_show_open(&a.fw.set, &a.vo);
	if (!a.show) {
		st_follow_end(&a.fw);
		st_follow_free(&a.fw);
		return 1;
	}
	st_show_model(a.show)->following = true;
	int n = st_follow_count(&a.fw);
	fprintf(stderr, "socktrace: following %d process%s; Ctrl-C to stop\n",
		n, n == 1 ? "" : "es");
	follow(&a);
	rc = st_show_close(a.show);
	st_traceset_warn(&a.fw.set);
	st_follow_free(&a.fw);
	return rc;
}
