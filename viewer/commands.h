/* SPDX-License-Identifier: MIT */
/* The viewer's subcommands and the record printers they share. */
#ifndef ST_VIEWER_COMMANDS_H
#define ST_VIEWER_COMMANDS_H

#include "out.h"
#include "trace.h"

/* Each takes the subcommand's argv (argv[0] is its name) and returns the
 * exit code: 0 ok, 1 runtime error, 2 usage error. */
int st_cmd_dump(int argc, char **argv);

void st_call_json(struct st_out *o, const struct st_rec *r, int32_t pid);
void st_call_text(struct st_out *o, const struct st_rec *r,
		  const struct st_trace *t, uint64_t t0);

#endif
