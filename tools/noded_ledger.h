/* The node ledger as grey-noded owns it: a sealed memory file that exists nowhere in the file
 * system (so no path to truncate, replace or plant), handed to each client as an open file
 * description of its own, beside the sealed limits (policy/node_limits.h). And the service's
 * rounds over it: retiring dead slots, checking the sums, repairing budgets someone rewrote. */
#ifndef GREY_NODED_LEDGER_H
#define GREY_NODED_LEDGER_H

#include <stddef.h>

#include "policy/ledger.h"
#include "policy/node_limits.h"
#include "policy/plan.h"

struct noded_ledger {
    struct grey_ledger lg;          /* the service's own description and mapping */
    int limits_fd;
    struct grey_node_limits limits; /* what the sealed limits file holds */
    int limits_row[GREY_MAX_DEVICES]; /* ledger row -> limits row, -1 none */
    struct grey_gpu_id row_gpu[GREY_MAX_DEVICES]; /* the GPU of each row the service made */
    grey_devmask rows;              /* bit r: row r is one the service made (from NVML) */
    unsigned reported[GREY_MAX_DEVICES]; /* the findings already logged per row (bits), so a
                                          * persisting problem is said once, not every round */
    bool header_reported;
};

/* Creates the ledger and the limits for the GPUs (NVML's, in index order; n may be 0) under the
 * admin plan (NULL: none): each GPU gets a ledger row, its budget and cap from the plan's section
 * for it. 0, or -1 with the reason in err. */
int noded_ledger_create(struct noded_ledger *nl, const struct grey_plan *admin, const struct grey_gpu_id *gpus,
                        unsigned n, enum grey_watchdog_policy watchdog, char *err, size_t errlen);

/* A memory file of size bytes that may be sealed (it has no name in any directory), and sealing
 * it: what the ledger, the limits and the owners files are made of. fd or 0, or -1 with the
 * reason in err. */
int noded_memfd_new(const char *name, size_t size, char *err, size_t errlen);
int noded_memfd_seal(int fd, unsigned seals, const char *name, char *err, size_t errlen);

/* A new open file description of the ledger, read-write, for one client (close it after sending):
 * the client's slot lock lives on it, so no two clients may share one. -1 on failure. */
int noded_ledger_client_fd(const struct noded_ledger *nl);

/* One round: retire the slots of dead processes (their OFD locks are gone), check sum of slots'
 * used <= device_used <= budget per row and the header, restore a rewritten budget, and log what
 * is wrong (once per finding). */
void noded_ledger_round(struct noded_ledger *nl);

/* The ledger row of NVML GPU index i (rows were claimed in index order), or -1. */
int noded_ledger_row_of_index(const struct noded_ledger *nl, int index);

#endif
