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
 *   node_service = "/run/grey/noded.sock" (optional, absolute path of at most 107 characters: the
 *                                   socket of grey-noded, the node service that owns the node
 *                                   ledger and hands it out sealed; the hook asks it first and
 *                                   falls back to `ledger` when it does not answer)
 *   watchdog = log                 (optional: log | signal | kill, what grey-noded does to a process
 *                                   NVML shows above its cap or its GPU's budget; default log)
 *
 *   [device 0]                     (0 .. GREY_MAX_DEVICES-1, each at most once: the GPU's physical
 *                                   index, as NVML and nvidia-smi number GPUs)
 *   uuid = "GPU-8f3a..."           (optional: the GPU the section is for, whatever number it has;
 *                                   "MIG-..." for a MIG instance. A section with a uuid applies to
 *                                   that GPU; one without, or whose uuid is on no GPU of the node,
 *                                   applies by index: policy/plan_gpus.h)
 *   pci_bus_id = "0000:17:00.0"    (optional, informational)
 *   name = "NVIDIA H100 80GB HBM3" (optional, informational)
 *   vram = 80GiB                   (optional: physical VRAM the plan was computed for)
 *   budget = 72GiB                 (required: all hooked processes together on this device)
 *   process_cap = 60GiB            (required: one process on this device)
 *   weight = 2                     (optional, 1..10000: fair-share weight of a process on this
 *                                   device; see policy/weights.h for how weights combine)
 *
 *   [user alice]                   (a user name or uid; each at most once)
 *   process_cap = 8GiB             (a cap on every device for her processes)
 *   weight = 4                     (her processes' fair-share weight; a section needs at least
 *                                   one of process_cap and weight)
 *   [group students]               (a group name or gid; applies to its members)
 *   process_cap = 4GiB
 *
 * What grey-plan planned for, and its hints (all optional; the hook enforces none of them but
 * max_lead and the temperatures, and it parses them all, so a typo is an error everywhere):
 *
 *   tenants = 4                    (top level, 1..1024: processes expected to share each device)
 *   workload = training            (top level: training | inference)
 *   model_size = 7GiB              (top level: the model's weights, a size)
 *   default_weight = 1             (top level, 1..10000: fair-share weight of a process that no
 *                                   other setting gives one)
 *   confidence = 0.85              (top level, 0..1: how sure grey-plan was of the plan as a whole)
 *   max_lead = 50ms                (top level, a duration up to 1 h: the most device time one
 *                                   process may have queued and not yet run, enforced by the hook's
 *                                   pacer; the smallest of the plans' and GREY_MAX_LEAD applies;
 *                                   default 50 ms, 0: no bound)
 *   thermal = on                   (top level: on | off | dry-run; default on. Above a device's
 *                                   cooldown_temp the hook lowers the ceilings of the processes on
 *                                   it, and more at throttle_temp (shim/thermal.c); dry-run only
 *                                   logs what it would do. An admin plan's setting wins over a
 *                                   user's.)
 *   throttle_temp = 87             ([device N], 1..150 degrees C: where the hardware slows down;
 *                                   the hook backs off harder here)
 *   cooldown_temp = 84             ([device N], below throttle_temp: where work backs off)
 *   shutdown_temp = 92             ([device N], above throttle_temp: where the hardware stops)
 *   batch_size = 32                ([device N], 1..1048576: a starting batch size per process)
 *   chunk_size = 2GiB              ([device N], at most process_cap: a tensor chunk size)
 *
 * Any key but the version may be explained by a KEY.why line in the same section: a confidence
 * from 0 to 1 (at most three decimals) and a quoted one-line reason, e.g.
 *
 *   budget.why = 0.95 "90% of the 80.0 GiB NVML reports: 10% stays free for contexts"
 *
 * A .why line for a key the section does not set, or two for one key, are errors.
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

#include "ledger_gpu.h"
#include "limits.h"

#define GREY_PLAN_VERSION 1
#define GREY_PLAN_VERSION_KEY "grey-plan-version"
#define GREY_PLAN_WHY_SUFFIX ".why"
#define GREY_PLAN_MAX_BYTES (256 * 1024) /* larger files are refused: a plan is a few lines */

enum grey_plan_mode { GREY_MODE_SAFE = 0, GREY_MODE_BALANCED, GREY_MODE_AGGRESSIVE };

struct grey_plan_device {
    bool present;              /* a [device N] section exists */
    char name[GREY_NAME_MAX];  /* "" when not given */
    uint64_t vram;             /* 0 when not given */
    uint64_t budget;
    uint64_t process_cap;
    /* Hints; 0 when not given (no valid value is 0). */
    unsigned throttle_temp, cooldown_temp, shutdown_temp; /* degrees C */
    unsigned batch_size;
    uint64_t chunk_size;
    unsigned weight;           /* fair-share weight on this device, 1..10000; 0 when not given */
    char uuid[GREY_UUID_MAX];  /* the GPU the section is for; "" when not given (then by index) */
    char pci_bus_id[GREY_PCI_ID_MAX]; /* normalized; informational */
};

/* What grey-noded's watchdog does to a process over its cap or budget (tools/noded_watchdog.h). */
enum grey_watchdog_policy { GREY_WATCHDOG_LOG = 0, GREY_WATCHDOG_SIGNAL, GREY_WATCHDOG_KILL };
#define GREY_NODE_SERVICE_MAX 108 /* sizeof sockaddr_un.sun_path */

enum grey_plan_workload { GREY_WORKLOAD_UNSET = 0, GREY_WORKLOAD_TRAINING, GREY_WORKLOAD_INFERENCE };

/* thermal = on | off | dry-run: whether the hook backs a hot GPU's processes off (shim/thermal.c). */
enum grey_plan_thermal { GREY_THERMAL_UNSET = 0, GREY_THERMAL_ON, GREY_THERMAL_OFF, GREY_THERMAL_DRY_RUN };

#define GREY_PLAN_PRINCIPALS 32     /* [user] and [group] sections together */
#define GREY_PRINCIPAL_NAME_MAX 33  /* names up to 32 characters, like useradd's */

/* A [user NAME] or [group NAME] section. */
struct grey_plan_principal {
    bool is_group;
    char name[GREY_PRINCIPAL_NAME_MAX];
    uint64_t process_cap;      /* UINT64_MAX when the section sets only a weight */
    unsigned weight;           /* fair-share weight of its processes, 1..10000; 0 when not given */
};

struct grey_plan {
    unsigned version;
    enum grey_plan_mode mode;
    bool has_mode;             /* the file says mode = ...: it is GREY_MODE_SAFE otherwise */
    char source[GREY_NAME_MAX];
    unsigned ndevices;         /* highest present device index + 1 (0 when none) */
    struct grey_plan_device dev[GREY_MAX_DEVICES];
    char ledger[GREY_NAME_MAX];                     /* "" when not given */
    char ledger_group[GREY_PRINCIPAL_NAME_MAX];     /* "" when not given */
    char node_service[GREY_NODE_SERVICE_MAX];       /* "" when not given */
    enum grey_watchdog_policy watchdog;             /* GREY_WATCHDOG_LOG when not given */
    unsigned nprincipals;
    struct grey_plan_principal principal[GREY_PLAN_PRINCIPALS];
    /* What the plan was made for; 0 / GREY_WORKLOAD_UNSET when not given. */
    unsigned tenants;
    enum grey_plan_workload workload;
    uint64_t model_size;
    unsigned default_weight;
    bool has_confidence;
    unsigned confidence;       /* permille, 0..1000, when has_confidence */
    bool has_max_lead;
    uint64_t max_lead_ns;      /* max_lead: the device time a process may queue ahead, when given */
    enum grey_plan_thermal thermal; /* GREY_THERMAL_UNSET when not given */
    /* Set by grey_plan_load_admin from the file itself (never by the text): the plan at the
     * admin path, owned by root and writable by nobody else, so users cannot have written it.
     * Its caps are a ceiling that GREY_CAP and user plans may lower but not raise, and its
     * budgets always apply. */
    bool admin;
};

/* True for a plan file owned by root (seen through user namespaces: policy/file_owner.h) and not
 * writable by group or others. */
bool grey_plan_file_is_admin(unsigned owner_uid, unsigned mode);

/* The KEY.why lines of a plan, for the tools (grey-plan explain/show): the hook passes no notes,
 * and the parser validates .why lines either way, so a plan means the same everywhere. */
#define GREY_PLAN_REASON_MAX 240                 /* reason text, NUL included */
#define GREY_PLAN_KEY_MAX 24
#define GREY_PLAN_WHY_TOP (-1)                   /* section of a top-level key */
#define GREY_PLAN_WHY_PRINCIPAL 100              /* section of principal i: this + i */
#define GREY_PLAN_WHY_MAX (16 + GREY_MAX_DEVICES * 12 + GREY_PLAN_PRINCIPALS * 2) /* > one per key */

struct grey_plan_why {
    int section;                        /* GREY_PLAN_WHY_TOP, a device index, or principal */
    char key[GREY_PLAN_KEY_MAX];        /* "budget" for a budget.why line */
    unsigned line;
    unsigned confidence;                /* permille, 0..1000 */
    char reason[GREY_PLAN_REASON_MAX];
};

struct grey_plan_notes {
    unsigned n;
    struct grey_plan_why why[GREY_PLAN_WHY_MAX];
};

/* The .why of one key (section as in struct grey_plan_why), or NULL. */
const struct grey_plan_why *grey_plan_why_find(const struct grey_plan_notes *notes, int section,
                                               const char *key);

/* Adds or replaces the .why of a key, for grey-plan when it writes a plan. confidence is clamped
 * to 0..1000, the reason cut at GREY_PLAN_REASON_MAX - 1 and line breaks become spaces. Returns 0
 * or -1 when notes is full. */
int grey_plan_why_set(struct grey_plan_notes *notes, int section, const char *key, unsigned confidence,
                      const char *reason);

/* "0.93" for 930: at most three decimals, trailing zeros dropped ("1", "0", "0.5"). */
const char *grey_plan_confidence_format(unsigned permille, char *buf, size_t len);

/* Parses plan text (need not be NUL-terminated). filename is used only in messages. Allocates
 * nothing and keeps no state, so the hook may call it inside a foreign process. Returns 0, or -1
 * with "FILE:LINE: reason" in err. */
int grey_plan_parse(const char *text, size_t len, const char *filename, struct grey_plan *out,
                    char *err, size_t errlen);

/* The same, also collecting the .why lines into notes (which may be NULL). */
int grey_plan_parse_notes(const char *text, size_t len, const char *filename, struct grey_plan *out,
                          struct grey_plan_notes *notes, char *err, size_t errlen);

/* Reads and parses a file with open/read (no stdio). Errors: "FILE: cannot open: <strerror>",
 * "FILE: larger than 256 KiB", or the parser's message. A plan read this way is a user's plan
 * (out->admin is false) whoever owns the file: only grey_plan_load_admin makes admin plans, so
 * running as root does not turn a --plan or GREY_PLAN file into a ceiling. */
int grey_plan_load(const char *path, struct grey_plan *out, char *err, size_t errlen);

/* The same, also collecting the .why lines into notes (which may be NULL). */
int grey_plan_load_notes(const char *path, struct grey_plan *out, struct grey_plan_notes *notes,
                         char *err, size_t errlen);

/* The node's admin plan: read by the hook whenever it exists (so /etc/ld.so.preload alone
 * enforces it), and by grey-run, grey-top and grey-plan. */
#ifndef GREY_ADMIN_PLAN_PATH
#define GREY_ADMIN_PLAN_PATH "/etc/grey/plan.conf"
#endif

/* grey_plan_load for a file that may be absent: 1 loaded, 0 no such file, -1 error (in err). */
int grey_plan_load_optional(const char *path, struct grey_plan *out, char *err, size_t errlen);

/* The admin layer at path (policy/settings.h says which path): grey_plan_load_optional, and
 * out->admin set when the file read is owned by root and writable by nobody else (judged on the
 * open descriptor). A file there that anyone could have written is loaded as a user's plan. 1, 0
 * or -1 as above. */
int grey_plan_load_admin(const char *path, struct grey_plan *out, char *err, size_t errlen);

/* The plan writer is the tools' (tools/plan_write.h): nothing inside the hook writes plans. */

/* "user" or "group", for messages about a [user NAME] / [group NAME] section. */
const char *grey_plan_principal_kind(const struct grey_plan_principal *pr);

const char *grey_plan_workload_name(enum grey_plan_workload w);
/* "training" / "inference" -> the workload; -1 for anything else. */
int grey_plan_workload_parse(const char *text);

/* "log" / "signal" / "kill" and back; parse returns -1 for anything else. */
const char *grey_watchdog_policy_name(enum grey_watchdog_policy p);
int grey_watchdog_policy_parse(const char *text);

const char *grey_plan_mode_name(enum grey_plan_mode mode);
/* "safe" -> GREY_MODE_SAFE ...; returns -1 for anything else. */
int grey_plan_mode_parse(const char *text);

#endif
