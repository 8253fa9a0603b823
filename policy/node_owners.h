/* Who owns each slot of the node ledger, as grey-noded established it from the kernel, and the
 * fair-share weight the admin allows that owner on each GPU row: a third memory file, beside the
 * ledger and the sealed limits (policy/node_limits.h), that only the service can write.
 *
 * Why: a slot's weight is in the ledger, which every member of the node's group may write, and
 * each process charges its own virtual time by the weight it reads there (shim/pace_turns.c), so
 * a member who rewrote a slot's weight to 1000 would take the device. The slot's uid and pid are
 * just as writable, so the owner cannot be read from the slot either. The service finds it from
 * what the kernel says: the process whose open file description holds the slot's lock (its
 * /proc/PID/fdinfo lists the lock), and that process's real uid (/proc/PID/status). Every pacer
 * then uses min(slot weight, ceiling) for a slot this table vouches for, and weight 1 for a slot
 * it does not (yet) vouch for.
 *
 * Why it cannot be written: the service maps the file read-write, then seals it with
 * F_SEAL_FUTURE_WRITE (and SHRINK, GROW, SEAL). Its own mapping keeps working; from then on no
 * write(), no new writable shared mapping, no mprotect to writable, no write through
 * /proc/PID/mem and no hole punched succeeds, for anyone, root included (the kernel refuses each;
 * tests/noded tries them all). Clients map it PROT_READ and see the service's updates live.
 *
 * An entry is about the slot as the slot said when the owner was established: its pid and start
 * time are kept in the entry, and a slot whose pid or start time no longer match (it was
 * rewritten, or another process has it now) is not vouched for until the service looks again. The
 * service rewrites an entry under a sequence count (odd while it writes), so a reader never takes
 * half of an old entry and half of a new one. */
#ifndef GREY_NODE_OWNERS_H
#define GREY_NODE_OWNERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "limits.h"

#define GREY_NODE_OWNERS_MAGIC "GREYOWN" /* 8 bytes with the NUL */
#define GREY_NODE_OWNERS_VERSION 1

/* The weight of a slot the table does not vouch for: the least there is. */
#define GREY_NODE_UNVOUCHED_WEIGHT 1u

enum grey_owner_state {
    GREY_OWNER_NONE = 0,   /* no live slot, or not looked at yet */
    GREY_OWNER_KNOWN = 1,  /* uid and ceilings are the lock holder's */
    GREY_OWNER_HIDDEN = 2, /* the lock is held, but through no descriptor a process shows (passed
                            * away, kept only in a mapping), or by processes of several users */
};

struct grey_node_owner {
    _Atomic uint32_t seq;        /* odd while the service rewrites the entry */
    _Atomic uint32_t state;      /* enum grey_owner_state */
    _Atomic int32_t pid;         /* the slot's pid and start time when the owner was found */
    _Atomic uint32_t uid;        /* the owner's real uid */
    _Atomic uint64_t start_time;
    _Atomic int32_t host_pid;    /* the holder as the service's PID namespace numbers it */
    uint32_t reserved;
    _Atomic uint32_t ceiling[GREY_MAX_DEVICES]; /* per ledger row, 1..GREY_WEIGHT_MAX */
};

struct grey_node_owners {
    char magic[8];
    uint32_t version;
    uint32_t size;               /* sizeof(struct grey_node_owners) */
    uint32_t nslots;             /* GREY_LEDGER_SLOTS */
    uint32_t reserved;
    struct grey_node_owner slot[GREY_LEDGER_SLOTS];
};

/* An empty table (every entry GREY_OWNER_NONE). */
void grey_node_owners_init(struct grey_node_owners *t);

/* Checks a table without trusting it: magic, version, sizes. 0, or -1 with the reason in err. */
int grey_node_owners_validate(const struct grey_node_owners *t, size_t size, char *err, size_t errlen);

/* The seals an owners file must carry. */
unsigned grey_node_owners_seals(void);

/* Maps an owners file read-only after checking its seals, size and header: 0 with *out set, or
 * -1 with the reason in err. The descriptor may be closed afterwards. */
int grey_node_owners_map(int fd, const struct grey_node_owners **out, char *err, size_t errlen);
/* A file the service sealed: 0 when fd carries every seal in want and is exactly size bytes;
 * otherwise -1 and err says which, naming the file as what. Only a file nobody can write any more
 * is worth reading: anything else could change after, or come from someone other than the
 * service. The owners table and the limits are both checked so. */
int grey_node_sealed_check(int fd, unsigned want, size_t size, const char *what, char *err, size_t errlen);

/* What the service writes for slot i (the writer's side of the sequence count). */
struct grey_node_owner_fields {
    enum grey_owner_state state;
    int32_t pid, host_pid;
    uint32_t uid;
    uint64_t start_time;
    uint32_t ceiling[GREY_MAX_DEVICES];
};
void grey_node_owners_publish(struct grey_node_owners *t, uint32_t i, const struct grey_node_owner_fields *f);

/* The weight the pacer uses for slot i on row: weight (0 counts as 1) as the slot publishes it,
 * pid and start_time as the slot says, bounded by the table. t NULL (no service): weight as is. */
uint32_t grey_node_owners_weight(const struct grey_node_owners *t, uint32_t i, int32_t pid, uint64_t start_time,
                                 int row, uint32_t weight);

/* The same for a slot of the ledger, reading its pid, start time and row's weight. */
uint32_t grey_node_slot_weight(const struct grey_node_owners *t, const struct grey_ledger_header *h,
                               const struct grey_slot *slot, int row);

#endif
