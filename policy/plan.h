/* The plan file: what grey-plan writes and the hook, grey-run and grey-plan read.
 *
 * Text, line oriented, human-editable:
 *
 *   # comments start with '#', anywhere on a line outside a quoted string
 *   grey-plan-version = 1          (required, first key; other versions are refused)
 *   mode = safe                    (safe | balanced | aggressive)
 *   source = "simulated driver"    (optional free text: what the plan was computed from)
 *
 *   [device 0]                     (0 .. GREY_MAX_DEVICES-1, each at most once)
 *   name = "NVIDIA H100 80GB HBM3" (optional, informational)
 *   vram = 80GiB                   (optional: physical VRAM the plan was computed for)
 *   budget = 72GiB                 (required: all hooked processes together on this device)
 *   process_cap = 60GiB            (required: one process on this device)
 *
 * Sizes are anything grey_size_parse accepts. Keys are unique per section. Unknown keys, unknown
 * sections, duplicate keys or sections, a missing required key, process_cap > budget, or
 * budget > vram (when vram is given) are errors. Every error message starts with "FILE:LINE: ". */
#ifndef GREY_PLAN_H
#define GREY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "limits.h"

#define GREY_PLAN_VERSION 1
#define GREY_PLAN_MAX_BYTES (256 * 1024) /* larger files are refused: a plan is a few lines */

enum grey_plan_mode { GREY_MODE_SAFE = 0, GREY_MODE_BALANCED, GREY_MODE_AGGRESSIVE };

struct grey_plan_device {
    bool present;              /* a [device N] section exists */
    char name[GREY_NAME_MAX];  /* "" when not given */
    uint64_t vram;             /* 0 when not given */
    uint64_t budget;
    uint64_t process_cap;
};

struct grey_plan {
    unsigned version;
    enum grey_plan_mode mode;
    char source[GREY_NAME_MAX];
    unsigned ndevices;         /* highest present device index + 1 (0 when none) */
    struct grey_plan_device dev[GREY_MAX_DEVICES];
};

/* Parses plan text (need not be NUL-terminated). filename is used only in messages. Allocates
 * nothing and keeps no state, so the hook may call it inside a foreign process. Returns 0, or -1
 * with "FILE:LINE: reason" in err. */
int grey_plan_parse(const char *text, size_t len, const char *filename, struct grey_plan *out,
                    char *err, size_t errlen);

/* Reads and parses a file with open/read (no stdio). Errors: "FILE: cannot open: <strerror>",
 * "FILE: larger than 256 KiB", or the parser's message. */
int grey_plan_load(const char *path, struct grey_plan *out, char *err, size_t errlen);

/* Writes a plan in the format above, with a comment on every value saying what it means and, for
 * sizes, the human-readable size. Returns 0 or -1 (errno set by the failing write). Not for use
 * inside the hook. */
int grey_plan_write(FILE *out, const struct grey_plan *plan);

const char *grey_plan_mode_name(enum grey_plan_mode mode);
/* "safe" -> GREY_MODE_SAFE ...; returns -1 for anything else. */
int grey_plan_mode_parse(const char *text);

#endif
