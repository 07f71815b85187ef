/* SPDX-License-Identifier: MIT */
/* JSON lines of view --json that the HTML and Perfetto sinks embed. */
#ifndef ST_VIEWER_SINK_JSON_H
#define ST_VIEWER_SINK_JSON_H

#include "sink.h"

/* {"type":"conn",...} for C (not its other end), newline-terminated. */
void st_render_json(struct st_render *rd, const struct st_conn *c);
/* {"type":"finding",...} for F, newline-terminated. */
void st_render_finding_json(struct st_render *rd, const struct st_finding *f);

#endif
