/* SPDX-License-Identifier: MIT */
/* The options of view, shared by the commands that show timelines. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "findings.h"
#include "opts.h"
#include "socktrace/format.h"
#include "stats.h"

/* --stats: what stats shows by default, as text or as JSON lines. */
const struct st_stats_opts st_stats_text_opts = {
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

/* Units a duration may end in, and their ns. */
static const struct {
	const char *name;
	double ns;
} dur_units[] = {
	{ "ns", 1 },   { "us", 1e3 },	{ "\xc2\xb5s", 1e3 },
	{ "ms", 1e6 }, { "s", 1e9 },	{ "", 1e9 },
	{ "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 },
};

bool st_parse_dur(const char *s, uint64_t *ns)
{
	char *e;
	double v;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return false;
	v = strtod(s, &e);
	if (e == s || !isfinite(v) || v < 0)
		return false;
	for (size_t i = 0; i < sizeof(dur_units) / sizeof(dur_units[0]); i++)
		if (!strcmp(e, dur_units[i].name)) {
			v *= dur_units[i].ns;
			if (v >= 9.2e18) /* beyond int64_t's ns */
				return false;
			*ns = (uint64_t)llround(v);
			return true;
		}
	return false;
}

/* "HH:MM[:SS[.frac]]" at S into ns since midnight; the rest at *END. */
static bool parse_clock(const char *s, int64_t *ns, const char **end)
{
	unsigned h, m, sec = 0;
	int n = 0;
	double frac = 0;

	if (sscanf(s, "%2u:%2u%n", &h, &m, &n) != 2 || !n)
		return false;
	s += n;
	if (*s == ':') {
		n = 0;
		if (sscanf(s + 1, "%2u%n", &sec, &n) != 1 || n != 2)
			return false;
		s += 1 + n;
		if (*s == '.') {
			char *e;
			frac = strtod(s, &e);
			s = e;
		}
	}
	if (h > 23 || m > 59 || sec > 60)
		return false;
	*ns = ((int64_t)h * 3600 + m * 60 + sec) * 1000000000ll +
	      (int64_t)llround(frac * 1e9);
	*end = s;
	return true;
}

bool st_parse_when(const char *s, struct st_when *w)
{
	uint64_t rel;
	struct tm tm = { 0 };
	int n = 0;
	int64_t day_ns;
	const char *e;

	if (*s == '+')
		s++;
	if (st_parse_dur(s, &rel)) {
		*w = (struct st_when){ ST_WHEN_REL, (int64_t)rel };
		return true;
	}
	if (parse_clock(s, &w->ns, &e)) {
		w->kind = ST_WHEN_CLOCK;
		return !*e;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &n) != 3 ||
	    n != 10 || (s[10] != 'T' && s[10] != ' ') ||
	    !parse_clock(s + 11, &day_ns, &e) || (*e && strcmp(e, "Z")))
		return false;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_year < 1970)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	int mday = tm.tm_mday;
	time_t t = *e ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1 || tm.tm_mday != mday) /* 31 April */
		return false;
	*w = (struct st_when){ ST_WHEN_WALL,
			       (int64_t)t * 1000000000ll + day_ns };
	return true;
}

/* "65535" into *PORT. */
static bool parse_port(const char *s, int *port)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (e == s || *e || v < 0 || v > 65535 || !isdigit((unsigned char)*s))
		return false;
	*port = (int)v;
	return true;
}

/* An IP (v4, v6, v4-mapped v6 taken as v4) into A. */
static bool parse_ip(const char *s, struct st_addr_pat *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (inet_pton(AF_INET, s, a->ip) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->ip) != 1)
		return false;
	a->family = AF_INET6;
	if (!memcmp(a->ip, mapped, sizeof(mapped))) {
		memmove(a->ip, a->ip + 12, 4);
		a->family = AF_INET;
	}
	return true;
}

bool st_parse_addr_pat(const char *s, struct st_addr_pat *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	memset(a, 0, sizeof(*a));
	a->set = true;
	a->port = -1;
	if (*s == '/' || *s == '@' || *s == '.' || strchr(s, '/')) {
		if (strlen(s) >= sizeof(a->path))
			return false;
		a->family = AF_UNIX;
		strcpy(a->path, s);
		return true;
	}
	if (parse_ip(s, a)) /* an IP, any port */
		return true;
	if (!colon || !parse_port(colon + 1, &a->port))
		return false;
	if (colon == s) /* ":80" */
		return true;
	size_t n = (size_t)(colon - s);
	if (s[0] == '[' && n > 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = 0;
	return parse_ip(host, a);
}

/* NAME (any case) among the COUNT names of TABLE into bit *MASK. */
static bool parse_name(const char *name, const char *const *table,
		       unsigned count, uint32_t *mask)
{
	for (unsigned i = 0; i < count; i++)
		if (table[i] && !strcasecmp(name, table[i])) {
			*mask |= 1u << i;
			return true;
		}
	return false;
}

/* A comma-separated list of names into *MASK (--state, --finding). */
static bool parse_names(const char *arg, const char *const *table,
			unsigned count, uint32_t *mask)
{
	char buf[256], *save, *tok;

	if (strlen(arg) >= sizeof(buf))
		return false;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!parse_name(tok, table, count, mask))
			return false;
	return *mask != 0;
}

/* What each filter option takes, said after a bad value. */
static const char *filter_takes(int c)
{
	switch (c) {
	case ST_OPT_STATE:
		return "SYN_SENT, SYN_RECV, ESTABLISHED, LISTEN, FIN_WAIT, "
		       "TIME_WAIT, CLOSE_WAIT, LAST_ACK or CLOSED, or several "
		       "with commas";
	case ST_OPT_FINDING:
		return "a finding kind (connect_failed, close_wait, "
		       "server_time_wait, fd_leak, backlog_clipped, "
		       "accept_queue_full, lost_records, reset), or several "
		       "with commas";
	case ST_OPT_SINCE:
	case ST_OPT_UNTIL:
		return "seconds since the trace's first call (12.5, 250ms), "
		       "a time of day (10:32:05) or an ISO time "
		       "(2024-05-01T10:32:05)";
	case ST_OPT_MIN_DUR:
		return "a duration: 250ms, 2s, 1.5 (seconds), 100us";
	default:
		return "IP:PORT, [IPv6]:PORT, :PORT, an IP, or a Unix socket "
		       "path (/run/x.sock, @abstract)";
	}
}

static const char *const filter_names[] = {
	"state",	"finding", "since",    "until",
	"min-duration", "peer",	   "listener",
};

int st_filter_opt(struct st_filter_opts *f, int c, const char *arg,
		  const char *cmd)
{
	bool ok = false;

	switch (c) {
	case ST_OPT_STATE:
		ok = parse_names(arg, st_state_name, ST_ST__N, &f->states) &&
		     !(f->states & 1u << ST_ST_NONE);
		break;
	case ST_OPT_FINDING:
		ok = parse_names(arg, st_finding_name, ST_F__N, &f->findings);
		break;
	case ST_OPT_SINCE:
		ok = st_parse_when(arg, &f->since);
		break;
	case ST_OPT_UNTIL:
		ok = st_parse_when(arg, &f->until);
		break;
	case ST_OPT_MIN_DUR:
		ok = st_parse_dur(arg, &f->min_dur);
		break;
	case ST_OPT_PEER:
		ok = st_parse_addr_pat(arg, &f->peer);
		break;
	case ST_OPT_LISTENER:
		ok = st_parse_addr_pat(arg, &f->listener);
		break;
	}
	if (ok)
		return 0;
	fprintf(stderr, "socktrace %s: bad value for --%s: '%s': expected %s\n",
		cmd, filter_names[c - ST_OPT_STATE], arg, filter_takes(c));
	return -1;
}

void st_filter_usage(FILE *f)
{
	fprintf(f,
		"Filters (a connection is shown when all hold, for either "
		"end):\n"
		"  --state S       it passed through state S (SYN_SENT, "
		"SYN_RECV,\n"
		"                  ESTABLISHED, LISTEN, FIN_WAIT, TIME_WAIT, "
		"CLOSE_WAIT,\n"
		"                  LAST_ACK, CLOSED; several: S1,S2)\n"
		"  --finding KIND  it has a finding KIND (several: K1,K2); "
		"only those\n"
		"                  findings are shown\n"
		"  --since T, --until T   it was open within the window: T is "
		"seconds\n"
		"                  since the first call (12.5, 250ms), a time "
		"of day\n"
		"                  (10:32:05) or an ISO time "
		"(2024-05-01T10:32:05)\n"
		"  --min-duration D   it lasted D or more (250ms, 2s)\n"
		"  --peer ADDR     an end's peer is ADDR (IP:PORT, :PORT, IP, "
		"or a Unix\n"
		"                  socket path)\n"
		"  --listener ADDR  the listener on ADDR and the connections "
		"it "
		"accepted\n");
}

bool st_filter_any(const struct st_filter_opts *f)
{
	return f->states || f->findings || f->since.kind || f->until.kind ||
	       f->min_dur || f->peer.set || f->listener.set;
}

/* A size: bytes, or with a K, M or G suffix; false if not one. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *e;
	unsigned long long v = strtoull(s, &e, 10);
	int shift = !*e		      ? 0
		    : !strcmp(e, "K") ? 10
		    : !strcmp(e, "M") ? 20
		    : !strcmp(e, "G") ? 30
				      : -1;

	if (e == s || shift < 0 || !v || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
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
	{ "budget", required_argument, 0, 'B' },
	{ "findings", required_argument, 0, 'f' },
	{ "stats", no_argument, 0, 'S' },
	ST_FILTER_LONGOPTS,
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 },
};

/* The long name of the option getopt_long returns as C. */
static const char *opt_name(int c)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

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
		case 'B':
			if (!parse_size(optarg, &vo->budget))
				goto bad;
			break;
		case 'f':
			if (strcmp(optarg, "all") && strcmp(optarg, "grouped"))
				goto bad;
			vo->findings_all = !strcmp(optarg, "all");
			break;
		case 'S':
			vo->stats = &st_stats_text_opts;
			break;
		case 'h':
			use(stdout);
			return 1;
		case ST_OPT_STATE ... ST_OPT_LISTENER:
			if (st_filter_opt(&vo->flt, c, optarg, argv[0])) {
				use(stderr);
				return -1;
			}
			break;
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
	fprintf(stderr, "socktrace: bad value for --%s: '%s'\n", opt_name(c),
		optarg);
	use(stderr);
	return -1;
}
