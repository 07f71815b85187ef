/* SPDX-License-Identifier: MIT */
/* Printing connections and findings: text timelines and JSON lines. */
#ifndef ST_VIEWER_RENDER_H
#define ST_VIEWER_RENDER_H

#include "model.h"
#include "out.h"
#include "units.h" /* st_fmt_dur, which was declared here */

struct st_render {
	struct st_out *o;
	struct st_model *m;
	bool color;
	bool wall; /* wall-clock times instead of relative */
};

/* A connection (and its joined other end) as a text timeline. */
void st_render_text(struct st_render *rd, const struct st_conn *c);
/* {"type":"conn",...} for C (not its other end). */
void st_render_json(struct st_render *rd, const struct st_conn *c);
void st_render_finding_json(struct st_render *rd, const struct st_finding *f);
void st_render_finding_text(struct st_render *rd, const struct st_finding *f);
/* What a timeline line's call did, in a few words:
 * "connect(4) 1.2.3.4:80 = -1 ECONNREFUSED". */
void st_render_describe(const struct st_render *rd, const struct st_ev *e,
			char *buf, size_t len);
/* The line under a timeline's header: "  lasted 1.2 ms, connect ...". */
void st_render_summary(struct st_render *rd, const struct st_conn *c);
/* How C's life ended, when that needs saying ("never closed: ..."). */
void st_render_end_note(struct st_render *rd, const struct st_conn *c);

#endif
