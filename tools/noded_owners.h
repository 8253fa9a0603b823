/* grey-noded's side of the slots' owners (policy/node_owners.h): the file only it can write, and
 * the watch that fills it. For each live slot of the ledger the service finds the process that
 * holds the slot's lock (its /proc/PID/fdinfo lists the lock on an open file description of the
 * ledger), takes that process's real uid from the kernel, and writes the admin plan's weight
 * ceiling for that owner on every GPU row. Nothing a client wrote decides the owner: the slot's
 * pid is only where it looks first (a pid that does not hold the lock proves nothing, and the
 * service then looks through every process), and its uid is never read. A slot that publishes a
 * weight above its owner's ceiling is logged as tampering. */
#ifndef GREY_NODED_OWNERS_H
#define GREY_NODED_OWNERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "noded_ledger.h"
#include "policy/node_owners.h"
#include "policy/plan.h"

struct noded_owner_seen; /* what the service knows of one slot (noded_owners.c) */

struct noded_owners {
    int fd;                         /* sealed: clients get this descriptor, read-only in effect */
    struct grey_node_owners *table; /* the service's one writable mapping, made before the seal */
    const struct noded_ledger *nl;
    dev_t dev;                      /* the ledger's memory file, as fstat names it */
    ino_t ino;
    struct grey_plan admin;         /* the admin plan as loaded (sections by physical index) */
    struct grey_plan rows;          /* the same in ledger row order, for the rows the service made */
    struct noded_owner_seen *seen;  /* GREY_LEDGER_SLOTS entries */
    int64_t last_scan_ms;           /* the last look through every process */
};

/* Makes the owners file for nl under the admin plan (NULL: no weights, every ceiling the most).
 * 0, or -1 with the reason in err. */
int noded_owners_create(struct noded_owners *o, const struct noded_ledger *nl, const struct grey_plan *admin,
                        char *err, size_t errlen);

/* Often (tens of ms): slots that came, went or changed their pid or start time get their owner
 * found and written, so a new process is paced at weight 1 for at most about that long. */
void noded_owners_watch(struct noded_owners *o, int64_t now_ms);

/* Every round: each known owner still holds its slot's lock (else it is found again), its uid is
 * still the one written, and no slot publishes a weight above its ceiling (logged once). */
void noded_owners_round(struct noded_owners *o);

#endif
