/* What the live grey-top shows, as data: the GPUs (merged over every ledger read) and one row per
 * process and device, sortable. Built from grey_view (ledger_view.h), the same checked copy that
 * --once and --json print; tools/top_curses.c draws it, and knows nothing about ledgers. */
#ifndef GREY_TOP_MODEL_H
#define GREY_TOP_MODEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger_view.h"
#include "top_node_dups.h"

#define TOP_MAX_LEDGERS 32   /* an admin's view: the node ledger and the users' own */
#define TOP_COMMAND_MAX 512  /* basename and arguments; the screen cuts it further */
#define TOP_NOTE_MAX 512

/* One physical GPU: rows of different ledgers that name the same UUID are one GPU. */
struct top_gpu {
    int index;               /* nvidia-smi's number, -1 when unknown */
    char label[48];          /* "GPU 0", or "row 3" when the ledger row names no GPU */
    char uuid[GREY_UUID_MAX];
    char name[GREY_GPU_NAME_MAX];
    uint64_t total;          /* physical memory; 0 when unknown */
    uint64_t budget;         /* summed over the ledgers that set one; UINT64_MAX: none */
    uint64_t used;           /* summed over the ledgers */
    uint64_t used_budgeted;  /* summed over the ledgers that set a budget: what the budget covers */
    bool admin;              /* a budget came from an admin plan */
    bool contended;          /* processes are taking turns on it */
};

/* One process on one GPU (a process that used none has one row with gpu -1). */
struct top_row {
    int32_t pid;
    bool other_pidns;
    char user[33];
    int gpu;                 /* index into top_model.gpu, -1: none */
    uint64_t used, peak, cap, denied, launches; /* cap UINT64_MAX: none */
    uint32_t weight;
    bool active, waiting;    /* launched in the last second; held at the gate now */
    double entitled, measured; /* shares in [0, 1] (fair_view.h) */
    uint64_t queued_ns, lead_ns, throttled_ns;
    char command[TOP_COMMAND_MAX]; /* program basename and its arguments, printable */
};

enum top_sort { TOP_SORT_MEMORY, TOP_SORT_LAUNCHES, TOP_SORT_SHARE, TOP_SORT_PID };

struct top_model {
    unsigned nledgers;       /* ledgers read */
    char first_ledger[PATH_MAX];
    char note[TOP_NOTE_MAX]; /* what the view should say: no ledger yet, one unreadable, ... */
    unsigned ngpus;
    struct top_gpu gpu[GREY_MAX_DEVICES];
    unsigned nprocs, stale;
    uint64_t stale_bytes;
    unsigned nrows, cap_rows;
    struct top_row *rows;
    struct top_dups dups;    /* identical buffers across jobs, from the ledgers' fingerprint tables */
};

/* Which ledgers to read: the given one, or (no path given) the default one and, for root, every
 * user's /dev/shm/grey-UID.ledger as well. Returns how many were written to paths. */
unsigned top_ledger_list(const char *given, const char *default_path, bool admin,
                         char paths[][PATH_MAX], unsigned max);

/* Rebuilds m from the ledgers (reclaiming dead processes where we may write). A ledger that
 * does not exist yet or cannot be read is said in m->note, never an error: the view stays up. */
void top_model_load(struct top_model *m, char paths[][PATH_MAX], unsigned npaths);

/* The parts of top_model_load, for tests: empty m (keeping its row buffer), then add one view. */
void top_model_reset(struct top_model *m, const char *first_ledger);
void top_model_add_view(struct top_model *m, const struct grey_view *v);

void top_model_sort(struct top_model *m, enum top_sort by);

void top_model_free(struct top_model *m);

/* The program's basename and arguments from /proc/PID/cmdline, else from the ledger's command
 * (cut at GREY_COMMAND_MAX); exposed for the unit test. */
void top_command(int32_t pid, bool other_pidns, const char *ledger_command, char *out, size_t len);

#endif
