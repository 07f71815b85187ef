/* SPDX-License-Identifier: MIT */
/* Pieces of the text timelines that the HTML sink shows as they are. */
#ifndef ST_VIEWER_SINK_TEXT_H
#define ST_VIEWER_SINK_TEXT_H

#include <stddef.h>

#include "sink.h"

/* What a timeline line's call did, in a few words:
 * "connect(4) 1.2.3.4:80 = -1 ECONNREFUSED". */
void st_render_describe(const struct st_render *rd, const struct st_ev *e,
			char *buf, size_t len);
/* The line under a timeline's header: "  lasted 1.2 ms, connect ...". */
void st_render_summary(struct st_render *rd, const struct st_conn *c);
/* How C's life ended, when that needs saying ("never closed: ..."). */
void st_render_end_note(struct st_render *rd, const struct st_conn *c);

#endif
