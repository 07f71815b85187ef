/* SPDX-License-Identifier: MIT */
/* The options of view, shared by the commands that show timelines. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "socktrace/format.h"
#include "stats.h"

/* --stats: what stats shows by default, as text or as JSON lines. */
static const struct st_stats_opts stats_text = {
	.by = ST_BY_LISTENER | ST_BY_PEER | ST_BY_PROCESS,
	.top = 10,
};
static const struct st_stats_opts stats_json = {
	.by = ST_BY_LISTENER | ST_BY_PEER | ST_BY_PROCESS,
	.top = 10,
	.json = true,
};

/* Parses "PID:N" (a connection id as printed). */
static bool parse_conn(const char *s, uint64_t *out)
{
	char *e;
	unsigned long p = strtoul(s, &e, 10);

	if (*e != ':' || e == s)
		return false;
	unsigned long n = strtoul(e + 1, &e, 10);
	if (*e || p > 0xffffffffu || n > 0xffffffffu)
		return false;
	*out = st_conn_id((int32_t)p, (uint32_t)n);
	return true;
}

/* view's options (run and attach take them too) */
static const struct option opts[] = {
	{ "json", no_argument, 0, 'j' },
	{ "pid", required_argument, 0, 'p' },
	{ "conn", required_argument, 0, 'c' },
	{ "port", required_argument, 0, 'P' },
	{ "wall", no_argument, 0, 't' },
	{ "color", no_argument, 0, 'C' },
	{ "no-color", no_argument, 0, 'N' },
	{ "html", required_argument, 0, 'H' },
	{ "perfetto", required_argument, 0, 'F' },
	{ "findings", required_argument, 0, 'f' },
	{ "stats", no_argument, 0, 'S' },
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 },
};

int st_view_parse(int argc, char **argv, struct st_view_opts *vo,
		  void (*use)(FILE *))
{
	int c;
	char *e;

	memset(vo, 0, sizeof(*vo));
	vo->port = -1;
	vo->color = isatty(1);
	while ((c = getopt_long(argc, argv, "+th", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			vo->json = true;
			break;
		case 'p':
			vo->pid = (int32_t)strtol(optarg, &e, 10);
			if (*e || vo->pid <= 0)
				goto bad;
			break;
		case 'c':
			if (!parse_conn(optarg, &vo->conn))
				goto bad;
			break;
		case 'P':
			vo->port = (int)strtol(optarg, &e, 10);
			if (*e || vo->port < 0 || vo->port > 65535)
				goto bad;
			break;
		case 't':
			vo->wall = true;
			break;
		case 'C':
			vo->color = true;
			break;
		case 'N':
			vo->color = false;
			break;
		case 'H':
			vo->html = optarg;
			break;
		case 'F':
			vo->perfetto = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "all") && strcmp(optarg, "grouped"))
				goto bad;
			vo->findings_all = !strcmp(optarg, "all");
			break;
		case 'S':
			vo->stats = &stats_text;
			break;
		case 'h':
			use(stdout);
			return 1;
		default:
			use(stderr);
			return -1;
		}
	}
	if (vo->stats && vo->json) { /* stats' own JSON lines */
		vo->stats = &stats_json;
		vo->json = false;
	}
	return 0;
bad:
	fprintf(stderr, "socktrace: bad value for --%s: '%s'\n",
		c == 'p'   ? "pid"
		: c == 'c' ? "conn"
		: c == 'f' ? "findings"
			   : "port",
		optarg);
	use(stderr);
	return -1;
}
