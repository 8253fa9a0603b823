/* A ledger as the tools show it: a private, checked copy of what the hooked processes wrote.
 *
 * The tools never display from the shared mapping. They read the file with pread into their own
 * buffer, validate it as the hook does, and walk that copy; every field is treated as untrusted
 * (commands are cut at their fixed size and made printable, unknown states are skipped). So a
 * corrupt, truncated, zeroed or foreign file, or one truncated while we read it, gives a message,
 * never a crash. */
#ifndef GREY_LEDGER_VIEW_H
#define GREY_LEDGER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/ledger.h"

struct grey_view_device {
    uint64_t used, peak, cap, allocs, frees, denied, largest_denied;
};

/* One process's fair share on one device (tools/fair_view.h reads and shows it). */
struct grey_view_fair {
    uint32_t weight, max_share;         /* max_share in 1/10000, 0: none */
    uint64_t busy_ns;                   /* all device time measured */
    uint64_t recent_ns;                 /* recent device time, decayed to when the view was made */
    uint64_t throttled_ns;              /* time its launches waited at the gate */
    uint64_t queued_ns;                 /* device time it has queued and not yet run, estimated */
    bool active, waiting;               /* launched in the last second; waiting for its turn now */
};

struct grey_view_process {
    int32_t pid;                        /* as the process sees itself */
    bool other_pidns;                   /* it runs in another PID namespace than the viewer */
    uint32_t uid;
    char user[33];                      /* "" until grey_view_name_users fills it */
    char command[GREY_COMMAND_MAX + 1]; /* printable ASCII */
    uint64_t run_id;
    uint64_t batch_job_id;              /* SLURM_JOB_ID the process ran in (0: none) */
    uint64_t launches;
    uint64_t max_lead_ns;               /* the most device time it lets itself queue (0: no bound) */
    grey_devmask devices;               /* bit d: the process used device d */
    struct grey_view_device dev[GREY_MAX_DEVICES];
    struct grey_view_fair fair[GREY_MAX_DEVICES];
};

struct grey_view {
    /* Devices are GPU rows (policy/ledger_gpu.h); each shown one is named by its GPU. */
    struct grey_gpu_id gpu[GREY_MAX_DEVICES];
    grey_devmask gpus;                  /* bit d: row d names a GPU */
    uint64_t budget[GREY_MAX_DEVICES];  /* UINT64_MAX: none */
    uint64_t used[GREY_MAX_DEVICES];
    grey_devmask budget_admin;          /* bit d: set by an admin plan */
    grey_devmask contended;             /* bit d: turns are being taken on device d */
    uint64_t handoffs[GREY_MAX_DEVICES]; /* token changes on device d */
    uint64_t thermal[GREY_MAX_DEVICES];  /* device d's thermal word (policy/thermal.h; 0: never sampled) */
    grey_devmask devices;               /* bit d: worth showing (a budget, bytes, or a user) */
    uint64_t reclaimed_slots, reclaimed_bytes;
    uint64_t orphaned_bytes;            /* see policy/ledger.h */
    unsigned stale;                     /* ACTIVE slots of dead processes not reclaimed yet */
    uint64_t stale_bytes;
    unsigned nprocs;
    struct grey_view_process proc[GREY_LEDGER_SLOTS];
};

/* Whether slot i's process is alive (policy/ledger.h: its lock is held); NULL in
 * grey_view_from_image: every ACTIVE slot is. */
typedef bool (*grey_view_alive_fn)(uint32_t slot, void *arg);

/* Builds a view of the live processes from a ledger image of size bytes (any content: it is
 * validated first; base must be 8-byte aligned). my_pidns is the viewer's PID namespace (0:
 * unknown). Returns 0, or -1 with the reason in err. */
int grey_view_from_image(const void *base, size_t size, grey_view_alive_fn alive, void *arg, uint64_t my_pidns,
                         struct grey_view *out, char *err, size_t errlen);

/* "GPU 2 GPU-8f3a1c2e" for row d of a view, or "row d" when the row names no GPU. */
const char *grey_view_gpu_label(const struct grey_view *v, int d, char *buf, size_t len);

/* Reads the ledger at path into a view: a file, or "grey-noded:SOCKET", the ledger the node
 * service serves there (tools/ledger_source.h), asked for as the hook asks; then the weights are
 * the ones every pacer uses and the budgets the service's sealed ones. With reclaim, a file's
 * dead processes' slots are retired first (their bytes go back to the budgets) when the file is
 * writable to us; a read-only reader just shows them as stale (the service retires its own).
 * Returns 0, or -1 with "ledger PATH: reason" in err. */
int grey_view_load(const char *path, bool reclaim, struct grey_view *out, char *err, size_t errlen);

/* Fills p->fair[] from slot s (a validated copy), its recent device time decayed to now;
 * returns the devices with fair-share activity, to be shown like the ones with memory
 * (tools/fair_read.c). */
grey_devmask grey_fair_view_read(struct grey_view_process *p, const struct grey_slot *s);

/* Fills each process's user name from its uid (the uid in decimal when it has no name). */
void grey_view_name_users(struct grey_view *v);

#endif
