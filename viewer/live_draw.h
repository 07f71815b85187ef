/* SPDX-License-Identifier: MIT */
/* live's screen: the curses panes, the keys, and the loop that follows
 * the files and redraws. */
#ifndef ST_VIEWER_LIVE_DRAW_H
#define ST_VIEWER_LIVE_DRAW_H

#include "live_layout.h"

/*
 * Takes the terminal and shows V's model, following its files, until q
 * or a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT); the terminal is given
 * back as it was on every way out.  Returns the exit code: 0, or 1 when
 * the terminal cannot be used (said on stderr).
 */
int st__live_run(struct st_live_view *v);

#endif
