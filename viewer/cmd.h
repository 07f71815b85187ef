/* SPDX-License-Identifier: MIT */
/* The viewer's commands, for main.c's table (and the fuzz harness). */
#ifndef ST_VIEWER_CMD_H
#define ST_VIEWER_CMD_H

/*
 * One per cmd_<name>.c.  Each parses its options and calls library code;
 * commands are the top floor: no library file includes this, only
 * main.c (and each command, for its own prototype).  Each takes the
 * command's argv (argv[0] is its name) and returns the exit code: 0 ok,
 * 1 runtime error, 2 usage error.
 */
int st_cmd_view(int argc, char **argv);
int st_cmd_run(int argc, char **argv);
int st_cmd_dump(int argc, char **argv);
int st_cmd_attach(int argc, char **argv);
int st_cmd_detach(int argc, char **argv);
int st_cmd_live(int argc, char **argv);
int st_cmd_stats(int argc, char **argv);
int st_cmd_clean(int argc, char **argv);

#endif
