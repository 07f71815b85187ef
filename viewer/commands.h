/* SPDX-License-Identifier: MIT */
/* The viewer's subcommands and the record printers they share. */
#ifndef ST_VIEWER_COMMANDS_H
#define ST_VIEWER_COMMANDS_H

#include <stdio.h>

#include "opts.h"
#include "out.h"
#include "trace.h"

/* Each takes the subcommand's argv (argv[0] is its name) and returns the
 * exit code: 0 ok, 1 runtime error, 2 usage error. */
int st_cmd_dump(int argc, char **argv);
int st_cmd_view(int argc, char **argv);
int st_cmd_run(int argc, char **argv);

int st_cmd_attach(int argc, char **argv);
int st_cmd_detach(int argc, char **argv);
int st_cmd_live(int argc, char **argv);

#endif
