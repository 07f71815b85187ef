/* SPDX-License-Identifier: MIT */
/* The options of view, shared by the commands that show timelines. */
#ifndef ST_VIEWER_OPTS_H
#define ST_VIEWER_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct st_stats_opts;

/* A moment given to --since or --until, resolved against a trace. */
enum st_when_kind {
	ST_WHEN_NONE,
	ST_WHEN_REL,   /* ns after the trace's first call */
	ST_WHEN_CLOCK, /* a time of day (local), on the trace's first day */
	ST_WHEN_WALL,  /* ns since the epoch */
};
struct st_when {
	uint8_t kind; /* enum st_when_kind */
	int64_t ns;   /* REL, WALL: as said; CLOCK: ns since midnight */
};

/* An address to match (--peer, --listener): IP and port, a port, an IP
 * or a Unix path. */
struct st_addr_pat {
	bool set;
	int family;	/* AF_INET, AF_INET6, AF_UNIX; 0: a port alone */
	uint8_t ip[16]; /* AF_INET: the first 4 */
	int port;	/* -1: any */
	char path[108]; /* AF_UNIX */
};

/* The filters every command that shows connections takes. */
struct st_filter_opts {
	uint32_t states;   /* --state: bits of enum st_state; 0: any */
	uint32_t findings; /* --finding: bits of enum st_finding_kind */
	struct st_when since, until;
	uint64_t min_dur; /* --min-duration, ns; 0: any */
	struct st_addr_pat peer, listener;
};

/* What stats shows by default as text (view --stats). */
extern const struct st_stats_opts st_stats_text_opts;

/* What view shows and how (run and attach take the same options). */
struct st_view_opts {
	bool json, wall, color;
	int32_t pid;
	uint64_t conn;
	int port;
	const char *html;     /* --html FILE: the HTML report */
	const char *perfetto; /* --perfetto FILE: Chrome Trace Event JSON */
	uint64_t budget;      /* --budget: bytes of --html/--perfetto detail */
	/* stats (and --stats): the summary instead of timelines */
	const struct st_stats_opts *stats;
	bool findings_all; /* --findings all: each finding, not grouped */
	struct st_filter_opts flt;
	FILE *out;	  /* where the text and JSON lines go; NULL: stdout */
	uint64_t *nshown; /* when set: the connections shown, counted */
};

/* getopt values of the filter options (above any character). */
enum {
	ST_OPT_STATE = 256,
	ST_OPT_FINDING,
	ST_OPT_SINCE,
	ST_OPT_UNTIL,
	ST_OPT_MIN_DUR,
	ST_OPT_PEER,
	ST_OPT_LISTENER,
};
/* The filter options' rows of a getopt_long table. */
/* clang-format off */
#define ST_FILTER_LONGOPTS                                              \
	{ "state", required_argument, 0, ST_OPT_STATE },                \
	{ "finding", required_argument, 0, ST_OPT_FINDING },            \
	{ "since", required_argument, 0, ST_OPT_SINCE },                \
	{ "until", required_argument, 0, ST_OPT_UNTIL },                \
	{ "min-duration", required_argument, 0, ST_OPT_MIN_DUR },       \
	{ "peer", required_argument, 0, ST_OPT_PEER },                  \
	{ "listener", required_argument, 0, ST_OPT_LISTENER }
/* clang-format on */

/*
 * A filter option C (ST_OPT_*) with ARG into F.  Returns 0, or -1 after
 * saying on stderr ("socktrace CMD: bad value for --...") what is wrong
 * with ARG and what would do.
 */
int st_filter_opt(struct st_filter_opts *f, int c, const char *arg,
		  const char *cmd);
/* The filter options' lines of a --help. */
void st_filter_usage(FILE *f);
/* Whether F asks for anything. */
bool st_filter_any(const struct st_filter_opts *f);

/* Parses a duration ("250ms", "2s", "1.5", "100us") into *NS. */
bool st_parse_dur(const char *s, uint64_t *ns);
/* Parses --since/--until's ARG ("12.5", "10:32:05", an ISO time). */
bool st_parse_when(const char *s, struct st_when *w);
/* Parses an address to match ("1.2.3.4:80", "[::1]:80", ":80", an IP,
 * "/run/x.sock", "@abstract"). */
bool st_parse_addr_pat(const char *s, struct st_addr_pat *a);

/*
 * Parses view's options in ARGV into VO (getopt: set optind first; the
 * operands start at optind after).  Returns -1 after printing USAGE on
 * stderr (a usage error, exit 2), 0 to go on, 1 when --help printed
 * USAGE on stdout.
 */
int st_view_parse(int argc, char **argv, struct st_view_opts *vo,
		  void (*usage)(FILE *));

#endif
