/* The live grey-top on a terminal (ncurses): top_draw paints one frame of a top_model;
 * top_live runs the screen (alternate screen, keys, resize, refresh every second). */
#ifndef GREY_TOP_CURSES_H
#define GREY_TOP_CURSES_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>

#include "top_model.h"

struct top_screen {
    enum top_sort sort;
    unsigned scroll;     /* first process row shown */
    unsigned page;       /* process rows that fit, as the last frame drew them */
    bool colour;
};

/* Draws m on stdscr (the caller refreshes). Clamps s->scroll to the rows there are. */
void top_draw(const struct top_model *m, struct top_screen *s);

/* Runs the live view until q, Ctrl-C or SIGTERM (*stop). Returns 0, or -1 when the terminal
 * cannot be driven (no terminfo entry): the caller falls back to plain frames. */
int top_live(char paths[][PATH_MAX], unsigned npaths, volatile sig_atomic_t *stop);

#endif
