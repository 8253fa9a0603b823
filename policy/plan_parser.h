/* The plan parser's state, shared by its two feeders: grey_plan_parse (text in memory,
 * policy/plan_parse.c) and grey_plan_load (a file read in small chunks, policy/plan_load.c).
 * Internal to policy/: callers use plan.h. */
#ifndef GREY_PLAN_PARSER_H
#define GREY_PLAN_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

#define PLAN_LINE_MAX 1024 /* bytes per line, newline included */

/* Keys of a [device N] section; their lines are remembered for duplicate and range messages. */
enum dev_key { DK_NAME, DK_VRAM, DK_BUDGET, DK_CAP, DK_THROTTLE, DK_COOLDOWN, DK_SHUTDOWN, DK_BATCH,
               DK_CHUNK, DK_WEIGHT, DK_UUID, DK_PCI, DK_COUNT };

/* Top-level keys, same idea. */
enum top_key { TK_VERSION, TK_MODE, TK_SOURCE, TK_LEDGER, TK_LEDGER_GROUP, TK_TENANTS, TK_WORKLOAD,
               TK_MODEL_SIZE, TK_DEFAULT_WEIGHT, TK_CONFIDENCE, TK_MAX_LEAD, TK_THERMAL, TK_NODE_SERVICE,
               TK_WATCHDOG, TK_COUNT };

/* "KEY.why = CONFIDENCE \"REASON\"" explains KEY (see plan.h). */
#define WHY_SUFFIX GREY_PLAN_WHY_SUFFIX
#define TEMP_MAX 150 /* degrees C: no GPU runs hotter, so a larger number is a typo */

/* ps->section while inside a [user NAME] or [group NAME] section (ps->principal says which). */
#define SECTION_PRINCIPAL (-2)

struct grey_plan_parser {
    const char *file;
    struct grey_plan *out;
    char *err;
    size_t errlen;
    unsigned line;                                   /* current line, 1-based */
    int section;                                     /* -1: top level, SECTION_PRINCIPAL, else device index */
    unsigned top_line[TK_COUNT];                     /* 0: key not seen */
    unsigned section_line[GREY_MAX_DEVICES];         /* 0: section not seen */
    unsigned key_line[GREY_MAX_DEVICES][DK_COUNT];
    unsigned principal;                              /* current [user]/[group] section's index */
    unsigned principal_line[GREY_PLAN_PRINCIPALS];   /* where each [user]/[group] section starts */
    unsigned principal_cap_line[GREY_PLAN_PRINCIPALS];
    unsigned principal_weight_line[GREY_PLAN_PRINCIPALS];
    bool any_text;                                   /* a non-blank line was seen */
    /* KEY.why lines, by the same indices as the keys they explain (0: none yet). */
    struct grey_plan_notes *notes;                   /* NULL: validate only */
    unsigned top_why_line[TK_COUNT];
    unsigned dev_why_line[GREY_MAX_DEVICES][DK_COUNT];
    unsigned principal_why_line[GREY_PLAN_PRINCIPALS];        /* process_cap.why */
    unsigned principal_weight_why_line[GREY_PLAN_PRINCIPALS]; /* weight.why */
};

void grey_plan_parser_init(struct grey_plan_parser *ps, const char *file, struct grey_plan *out,
                           struct grey_plan_notes *notes, char *err, size_t errlen);
/* One line without its '\n'. 0, or -1 with the message in the parser's err. */
int grey_plan_parser_line(struct grey_plan_parser *ps, const char *text, size_t len);
/* After the last line: whole-file checks (the version key, the last section). */
int grey_plan_parser_finish(struct grey_plan_parser *ps);
/* "FILE:LINE: reason" into the parser's err; returns -1. */
int grey_plan_parser_fail(struct grey_plan_parser *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
