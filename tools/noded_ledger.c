/* grey-noded's ledger (see noded_ledger.h). */
#include "noded_ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "noded_log.h"
#include "policy/errmsg.h"
#include "policy/plan_gpus.h"
#include "policy/size.h"

int noded_memfd_new(const char *name, size_t size, char *err, size_t errlen)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return grey_error(err, errlen, "memfd_create %s: %s", name, strerror(errno));
    if (ftruncate(fd, (off_t)size) != 0) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "%s: cannot size it (%zu bytes): %s", name, size, strerror(e));
    }
    return fd;
}

int noded_memfd_seal(int fd, unsigned seals, const char *name, char *err, size_t errlen)
{
    if (fcntl(fd, F_ADD_SEALS, (int)seals) != 0)
        return grey_error(err, errlen, "%s: cannot seal it: %s", name, strerror(errno));
    return 0;
}

/* The limits file: written whole, then sealed, before anyone else sees it. */
static int make_limits(struct noded_ledger *nl, char *err, size_t errlen)
{
    int fd = noded_memfd_new("grey-node-limits", sizeof nl->limits, err, errlen);
    if (fd < 0)
        return -1;
    if (pwrite(fd, &nl->limits, sizeof nl->limits, 0) != (ssize_t)sizeof nl->limits) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "grey-node-limits: cannot write it: %s", strerror(e));
    }
    if (noded_memfd_seal(fd, grey_node_limits_seals(), "grey-node-limits", err, errlen) != 0) {
        close(fd);
        return -1;
    }
    nl->limits_fd = fd;
    return 0;
}

static int make_ledger(struct noded_ledger *nl, char *err, size_t errlen)
{
    size_t size = GREY_LEDGER_TOTAL_SIZE;
    int fd = noded_memfd_new("grey-node-ledger", size, err, errlen);
    if (fd < 0)
        return -1;
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "grey-node-ledger: cannot map it: %s", strerror(e));
    }
    grey_ledger_format(base); /* zero-filled by ftruncate, seen by nobody yet */
    munmap(base, size);
    if (noded_memfd_seal(fd, grey_node_ledger_seals(), "grey-node-ledger", err, errlen) != 0 ||
        grey_ledger_open_fd(fd, "grey-noded", &nl->lg, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    return 0;
}

int noded_ledger_create(struct noded_ledger *nl, const struct grey_plan *admin, const struct grey_gpu_id *gpus,
                        unsigned n, enum grey_watchdog_policy watchdog, char *err, size_t errlen)
{
    memset(nl, 0, sizeof *nl);
    nl->limits_fd = -1;
    for (int r = 0; r < GREY_MAX_DEVICES; r++)
        nl->limits_row[r] = -1;
    grey_node_limits_init(&nl->limits);
    nl->limits.watchdog = (uint32_t)watchdog;
    if (make_ledger(nl, err, errlen) != 0)
        return -1;
    for (unsigned i = 0; i < n && i < GREY_MAX_DEVICES; i++) {
        if (!gpus[i].uuid[0])
            continue;
        int r = grey_ledger_gpu_claim(&nl->lg, &gpus[i]);
        if (r < 0)
            continue;
        struct grey_node_limits_row *row = &nl->limits.row[nl->limits.nrows];
        grey_copy_cut(row->uuid, sizeof row->uuid, gpus[i].uuid);
        bool foreign;
        int s = admin ? grey_plan_section_for(admin, &gpus[i], NULL, NULL, &foreign) : -1;
        if (s >= 0) {
            row->budget = admin->dev[s].budget;
            row->process_cap = admin->dev[s].process_cap;
            row->weight = admin->dev[s].weight;
            atomic_store(&nl->lg.header->device_budget[r], row->budget);
            atomic_fetch_or(&nl->lg.header->budget_admin, GREY_DEVBIT(r));
        }
        nl->limits_row[r] = (int)nl->limits.nrows++;
        nl->row_gpu[r] = gpus[i];
        nl->rows |= GREY_DEVBIT(r);
    }
    return make_limits(nl, err, errlen);
}

int noded_ledger_client_fd(const struct noded_ledger *nl)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", nl->lg.fd);
    /* Reopening through /proc makes a new open file description of the same memory file: the
     * client's OFD locks (its liveness) are then its own, not shared with every other client. */
    return open(self, O_RDWR | O_CLOEXEC);
}

int noded_ledger_row_of_index(const struct noded_ledger *nl, int index)
{
    for (int r = 0; r < GREY_MAX_DEVICES; r++) {
        const struct grey_ledger_gpu *g = &nl->lg.header->gpu[r];
        if (nl->limits_row[r] >= 0 && atomic_load(&((struct grey_ledger_gpu *)g)->state) == GREY_GPU_ROW_READY &&
            g->index == index)
            return r;
    }
    return -1;
}

enum finding { F_SLOTS_OVER_TOTAL = 1, F_TOTAL_OVER_BUDGET = 2, F_BUDGET_REWRITTEN = 4 };

static uint64_t slots_used(const struct grey_ledger *lg, int r)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < lg->nslots; i++)
        sum += atomic_load_explicit(&lg->slots[i].dev[r].used, memory_order_relaxed);
    return sum;
}

/* What is wrong with row r now. The slots and the total are read at different instants while
 * processes move bytes, so a violation is believed only when it holds on every one of a few
 * tries: a step in flight passes in microseconds, a rewritten counter stays. */
static unsigned row_findings(struct noded_ledger *nl, int r, uint64_t *sum, uint64_t *total)
{
    const struct grey_node_limits_row *lim = &nl->limits.row[nl->limits_row[r]];
    struct grey_ledger_header *h = nl->lg.header;
    unsigned found = 0;
    if (atomic_load(&h->device_budget[r]) != lim->budget) {
        found |= F_BUDGET_REWRITTEN;
        atomic_store(&h->device_budget[r], lim->budget); /* the readers' copy, put back */
    }
    unsigned persistent = F_SLOTS_OVER_TOTAL | F_TOTAL_OVER_BUDGET;
    for (int tries = 0; tries < 3 && persistent; tries++) {
        if (tries)
            usleep(1000);
        *sum = slots_used(&nl->lg, r);
        *total = atomic_load(&h->device_used[r]);
        unsigned now = (*sum > *total ? F_SLOTS_OVER_TOTAL : 0) | (*total > lim->budget ? F_TOTAL_OVER_BUDGET : 0);
        persistent &= now;
    }
    return found | persistent;
}

void noded_ledger_round(struct noded_ledger *nl)
{
    char why[256];
    if (grey_ledger_validate(nl->lg.header, nl->lg.map_size, why, sizeof why) != 0) {
        if (!nl->header_reported)
            noded_log("tampering: the ledger's header was damaged (%s); restart grey-noded to make a new ledger", why);
        nl->header_reported = true;
        return; /* counts in a damaged ledger mean nothing */
    }
    unsigned n = grey_ledger_reclaim(&nl->lg);
    if (n)
        noded_log("reclaimed the slots of %u dead process%s", n, n == 1 ? "" : "es");
    for (int r = 0; r < GREY_MAX_DEVICES; r++) {
        if (nl->limits_row[r] < 0)
            continue;
        uint64_t sum = 0, total = 0;
        unsigned found = row_findings(nl, r, &sum, &total);
        unsigned fresh = found & ~nl->reported[r];
        nl->reported[r] = found;
        if (!fresh)
            continue;
        char a[32], b[32], c[32];
        const char *uuid = nl->limits.row[nl->limits_row[r]].uuid;
        if (fresh & F_BUDGET_REWRITTEN)
            noded_log("tampering: %s's budget in the ledger was rewritten; put back to %s (processes of the service "
                      "never used it: theirs is sealed)", uuid,
                      grey_size_format(nl->limits.row[nl->limits_row[r]].budget, a, sizeof a));
        if (fresh & F_SLOTS_OVER_TOTAL)
            noded_log("tampering: on %s the slots hold %s but the device total is %s (the total can never be "
                      "smaller)", uuid, grey_size_format(sum, a, sizeof a), grey_size_format(total, b, sizeof b));
        if (fresh & F_TOTAL_OVER_BUDGET)
            noded_log("tampering: on %s the device total %s is over its budget %s", uuid,
                      grey_size_format(total, a, sizeof a),
                      grey_size_format(nl->limits.row[nl->limits_row[r]].budget, c, sizeof c));
    }
}
