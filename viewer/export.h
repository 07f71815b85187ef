/* SPDX-License-Identifier: MIT */
/* File outputs built from the connection model: Perfetto JSON, HTML report. */
#ifndef ST_VIEWER_EXPORT_H
#define ST_VIEWER_EXPORT_H

#include <stdio.h>

#include "model.h"
#include "render.h"

/*
 * Both writers stream: view feeds them the calls in time order and the
 * connections as the model finishes them, so memory stays bounded.  Each
 * writes to its own FILE through RD's model; RD->o is not used.
 */

/* Chrome Trace Event JSON (ui.perfetto.dev, chrome://tracing). */
struct st_perfetto;
struct st_perfetto *st_perfetto_open(FILE *f, struct st_model *m);
/* One call record of file FILE: a complete slice on its thread. */
void st_perfetto_call(struct st_perfetto *p, const struct st_rec *r, int file);
/*
 * A finished connection C (and its joined other end): an async track per
 * end with its states, and a flow from a client's connect to the server's
 * accept when SHOWN says both calls were written as slices.
 */
void st_perfetto_conn(struct st_perfetto *p, const struct st_conn *c,
		      bool (*shown)(const struct st_rec *r, int file,
				    void *arg),
		      void *arg);
void st_perfetto_finding(struct st_perfetto *p, const struct st_finding *f);
/* Ends the file and frees P; returns 0, or -1 if a write failed. */
int st_perfetto_close(struct st_perfetto *p);

/* The self-contained HTML report. */
struct st_html;
struct st_html *st_html_open(FILE *f, struct st_render *rd,
			     bool (*pass)(const struct st_trace *t, void *arg),
			     void *arg);
/* A finished connection C (and its joined other end): one lane. */
void st_html_conn(struct st_html *h, const struct st_conn *c);
void st_html_finding(struct st_html *h, const struct st_finding *f);
/* Ends the file and frees H; returns 0, or -1 if a write failed. */
int st_html_close(struct st_html *h);

#endif
