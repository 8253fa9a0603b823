/* The live grey-top's terminal loop (see top_curses.h): ncurses on the alternate screen, so the
 * view never scrolls into the terminal's history; the ledgers are read again every second, keys
 * are answered at once, and a resize (ncurses turns SIGWINCH into KEY_RESIZE) redraws. */
#include "top_curses.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define REFRESH_MS 1000
#define KEY_WAIT_MS 200 /* also how soon Ctrl-C or SIGTERM is noticed */

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void start_colour(struct top_screen *s)
{
    s->colour = has_colors() && start_color() == OK;
    if (!s->colour)
        return;
    use_default_colors(); /* -1: the terminal's own background */
    init_pair(1, COLOR_RED, -1);
    init_pair(2, COLOR_YELLOW, -1);
}

/* Answers one key; returns false for q. */
static bool key(int ch, struct top_screen *s, unsigned nrows)
{
    unsigned page = s->page ? s->page : 1;
    switch (ch) {
    case 'q': case 'Q':
        return false;
    case 'm': s->sort = TOP_SORT_MEMORY; s->scroll = 0; break;
    case 'l': s->sort = TOP_SORT_LAUNCHES; s->scroll = 0; break;
    case 's': s->sort = TOP_SORT_SHARE; s->scroll = 0; break;
    case 'p': s->sort = TOP_SORT_PID; s->scroll = 0; break;
    case KEY_UP: case 'k': s->scroll = s->scroll ? s->scroll - 1 : 0; break;
    case KEY_DOWN: case 'j': s->scroll++; break; /* top_draw clamps it */
    case KEY_PPAGE: s->scroll = s->scroll > page ? s->scroll - page : 0; break;
    case KEY_NPAGE: case ' ': s->scroll += page; break;
    case KEY_HOME: case 'g': s->scroll = 0; break;
    case KEY_END: case 'G': s->scroll = nrows; break;
    default: break;
    }
    return true;
}

int top_live(char paths[][PATH_MAX], unsigned npaths, volatile sig_atomic_t *stop)
{
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr)
        return -1;
    set_term(scr);
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout(KEY_WAIT_MS);
    struct top_screen s = {.sort = TOP_SORT_MEMORY};
    start_colour(&s);
    struct top_model m = {0};
    long long next = 0;
    bool dirty = true;
    while (!*stop) {
        if (now_ms() >= next) {
            top_model_load(&m, paths, npaths);
            next = now_ms() + REFRESH_MS;
            dirty = true;
        }
        if (dirty) {
            top_model_sort(&m, s.sort);
            top_draw(&m, &s);
            refresh();
            dirty = false;
        }
        int ch = getch();
        if (ch == ERR)
            continue;
        if (!key(ch, &s, m.nrows))
            break;
        dirty = true; /* a key or KEY_RESIZE: redraw now, without reading the ledgers again */
    }
    endwin();
    delscreen(scr);
    top_model_free(&m);
    return 0;
}
