/* The admin's limits as grey-noded hands them out: a small table, one row per GPU of the node
 * (named by UUID), in a memory file of its own that the service fills and then seals with
 * F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL before it gives it to anyone.
 *
 * Why a separate, sealed file: the ledger itself must stay writable by every hooked process
 * (the usage counters are the lock-free hot path), so anything kept in it, budgets included, can
 * be rewritten by any member of the node's group. Seals belong to the file, not to a descriptor:
 * once F_SEAL_WRITE is set nobody, root included, can write it, map it writable, reopen it
 * writable through /proc and write, or take the seal off (F_SEAL_SEAL). A process that received
 * it therefore holds limits that are exactly what the service wrote. The hook copies the rows it
 * needs into its own memory once (they can never change), so the hot path reads private memory.
 *
 * Rows are matched by UUID, never by position: the ledger's GPU table is writable, so a row
 * number read from it proves nothing, but a UUID the driver reported to this process does. */
#ifndef GREY_NODE_LIMITS_H
#define GREY_NODE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger_gpu.h"
#include "limits.h"

#define GREY_NODE_LIMITS_MAGIC "GREYLIM" /* 8 bytes with the NUL */
#define GREY_NODE_LIMITS_VERSION 1

/* One GPU's limits. UINT64_MAX: none set. weight 0: none set. */
struct grey_node_limits_row {
    char uuid[GREY_UUID_MAX];
    uint64_t budget;       /* all processes of the node together on this GPU */
    uint64_t process_cap;  /* the admin plan's [device N] process_cap: a ceiling for every process */
    uint32_t weight;       /* the admin plan's [device N] weight, for tools to show (the pacers'
                            * ceilings are per owner, [user]/[group] included: node_owners.h) */
    uint32_t reserved;
};

struct grey_node_limits {
    char magic[8];
    uint32_t version;
    uint32_t size;         /* sizeof(struct grey_node_limits) */
    uint32_t nrows;        /* rows in use, 0..GREY_MAX_DEVICES */
    uint32_t watchdog;     /* enum grey_watchdog_policy, for tools that want to show it */
    struct grey_node_limits_row row[GREY_MAX_DEVICES];
};

/* Fills an empty table (no rows). */
void grey_node_limits_init(struct grey_node_limits *l);

/* Checks a table read from a file of size bytes without trusting it: magic, version, sizes, row
 * count, NUL-terminated UUIDs. 0, or -1 with the reason in err. */
int grey_node_limits_validate(const struct grey_node_limits *l, size_t size, char *err, size_t errlen);

/* The row for uuid (compared as grey_uuid_equal does), or -1. */
int grey_node_limits_find(const struct grey_node_limits *l, const char *uuid);

/* The seals a limits file must carry, and those the ledger file must carry (F_SEAL_* bits). */
unsigned grey_node_limits_seals(void);
unsigned grey_node_ledger_seals(void);

#endif
