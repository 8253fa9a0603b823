/* The plan file: what grey-plan writes and the hook, grey-run and grey-plan read.
 *
 * Text, line oriented, human-editable:
 *
 *   # comments start with '#', anywhere on a line outside a quoted string
 *   grey-plan-version = 1          (required, first key; other versions are refused)
 *   mode = safe                    (safe | balanced | aggressive)
 *   source = "simulated driver"    (optional free text: what the plan was computed from)
 *
 *   ledger = "/dev/shm/grey.ledger" (optional, absolute path: the ledger, i.e. which processes
 *                                   share the device budgets; from an admin plan it wins over
 *                                   GREY_LEDGER)
 *   ledger_group = "gpu"           (optional, needs ledger: a ledger this plan creates is mode
 *                                   0660 and owned by that group)
 *
 *   [device 0]                     (0 .. GREY_MAX_DEVICES-1, each at most once)
 *   name = "NVIDIA H100 80GB HBM3" (optional, informational)
 *   vram = 80GiB                   (optional: physical VRAM the plan was computed for)
 *   budget = 72GiB                 (required: all hooked processes together on this device)
 *   process_cap = 60GiB            (required: one process on this device)
 *
 *   [user alice]                   (a user name or uid; each at most once)
 *   process_cap = 8GiB             (required: a cap on every device for her processes)
 *   [group students]               (a group name or gid; applies to its members)
 *   process_cap = 4GiB
 *
 * A process gets the smallest cap that applies to it: its device's process_cap, its user's, and
 * those of every group it is in (see policy/caps.h for how plans and GREY_CAP combine).
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

#define GREY_PLAN_PRINCIPALS 32     /* [user] and [group] sections together */
#define GREY_PRINCIPAL_NAME_MAX 33  /* names up to 32 characters, like useradd's */

/* A [user NAME] or [group NAME] section. */
struct grey_plan_principal {
    bool is_group;
    char name[GREY_PRINCIPAL_NAME_MAX];
    uint64_t process_cap;
};

struct grey_plan {
    unsigned version;
    enum grey_plan_mode mode;
    char source[GREY_NAME_MAX];
    unsigned ndevices;         /* highest present device index + 1 (0 when none) */
    struct grey_plan_device dev[GREY_MAX_DEVICES];
    char ledger[GREY_NAME_MAX];                     /* "" when not given */
    char ledger_group[GREY_PRINCIPAL_NAME_MAX];     /* "" when not given */
    unsigned nprincipals;
    struct grey_plan_principal principal[GREY_PLAN_PRINCIPALS];
    /* Set by grey_plan_load from the file itself (never by the text): owned by root and
     * writable by nobody else, so users cannot have written it. Its caps are a ceiling that
     * GREY_CAP and user plans may lower but not raise, and its budgets always apply. */
    bool admin;
};

/* True for a plan file owned by root and not writable by group or others. */
bool grey_plan_file_is_admin(unsigned owner_uid, unsigned mode);

/* Parses plan text (need not be NUL-terminated). filename is used only in messages. Allocates
 * nothing and keeps no state, so the hook may call it inside a foreign process. Returns 0, or -1
 * with "FILE:LINE: reason" in err. */
int grey_plan_parse(const char *text, size_t len, const char *filename, struct grey_plan *out,
                    char *err, size_t errlen);

/* Reads and parses a file with open/read (no stdio). Errors: "FILE: cannot open: <strerror>",
 * "FILE: larger than 256 KiB", or the parser's message. Sets out->admin from the file. */
int grey_plan_load(const char *path, struct grey_plan *out, char *err, size_t errlen);

/* The node's admin plan: read by the hook whenever it exists (so /etc/ld.so.preload alone
 * enforces it), and by grey-run and grey-top. Fixed at build time, not by the environment:
 * a user must not be able to point it elsewhere. */
#ifndef GREY_ADMIN_PLAN_PATH
#define GREY_ADMIN_PLAN_PATH "/etc/grey/plan.conf"
#endif

/* grey_plan_load for a file that may be absent: 1 loaded, 0 no such file, -1 error (in err). */
int grey_plan_load_optional(const char *path, struct grey_plan *out, char *err, size_t errlen);

/* Writes a plan in the format above, with a comment on every value saying what it means and, for
 * sizes, the human-readable size. Returns 0 or -1 (errno set by the failing write). Not for use
 * inside the hook. */
int grey_plan_write(FILE *out, const struct grey_plan *plan);

const char *grey_plan_mode_name(enum grey_plan_mode mode);
/* "safe" -> GREY_MODE_SAFE ...; returns -1 for anything else. */
int grey_plan_mode_parse(const char *text);

#endif
