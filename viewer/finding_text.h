/* SPDX-License-Identifier: MIT */
/* Findings in words, for the outputs that show them as text. */
#ifndef ST_VIEWER_FINDING_TEXT_H
#define ST_VIEWER_FINDING_TEXT_H

#include <stddef.h>

#include "findings.h"
#include "load.h"

/* Finding F of the traces in SET as a sentence, into BUF of LEN bytes
 * (cut to fit); returns BUF. */
const char *st_finding_text(const struct st_finding *f,
			    const struct st_traceset *set, char *buf,
			    size_t len);

/* What many findings of KIND mean, as one sentence about them all (for
 * grouped findings); NULL when the kind has none (each instance's own
 * sentence is used then). */
const char *st_finding_gist(unsigned kind);

#endif
