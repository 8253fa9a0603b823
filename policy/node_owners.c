#include "node_owners.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "errmsg.h"

void grey_node_owners_init(struct grey_node_owners *t)
{
    memset(t, 0, sizeof *t);
    memcpy(t->magic, GREY_NODE_OWNERS_MAGIC, sizeof t->magic);
    t->version = GREY_NODE_OWNERS_VERSION;
    t->size = sizeof *t;
    t->nslots = GREY_LEDGER_SLOTS;
}

int grey_node_owners_validate(const struct grey_node_owners *t, size_t size, char *err, size_t errlen)
{
    if (size != sizeof *t)
        return grey_error(err, errlen, "owners: %zu bytes, expected %zu", size, sizeof *t);
    if (memcmp(t->magic, GREY_NODE_OWNERS_MAGIC, sizeof t->magic) != 0)
        return grey_error(err, errlen, "owners: bad magic");
    if (t->version != GREY_NODE_OWNERS_VERSION || t->size != sizeof *t || t->nslots != GREY_LEDGER_SLOTS)
        return grey_error(err, errlen, "owners: layout version %u, this grey reads %u", t->version,
                          GREY_NODE_OWNERS_VERSION);
    return 0;
}

/* F_SEAL_FUTURE_WRITE rather than F_SEAL_WRITE: the service keeps the one writable mapping, made
 * before the seal, and nobody can make another. */
unsigned grey_node_owners_seals(void) { return F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE; }

int grey_node_sealed_check(int fd, unsigned want, size_t size, const char *what, char *err, size_t errlen)
{
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || ((unsigned)seals & want) != want)
        return grey_error(err, errlen, "%s: not sealed against writing (seals %#x)", what,
                          seals < 0 ? 0u : (unsigned)seals);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return grey_error(err, errlen, "%s: cannot stat: %s", what, strerror(errno));
    if ((size_t)st.st_size != size)
        return grey_error(err, errlen, "%s: %lld bytes, expected %zu", what, (long long)st.st_size, size);
    return 0;
}

int grey_node_owners_map(int fd, const struct grey_node_owners **out, char *err, size_t errlen)
{
    if (grey_node_sealed_check(fd, grey_node_owners_seals(), sizeof(struct grey_node_owners), "owners", err, errlen) != 0)
        return -1;
    void *p = mmap(NULL, sizeof(struct grey_node_owners), PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return grey_error(err, errlen, "owners: cannot map: %s", strerror(errno));
    if (grey_node_owners_validate(p, sizeof(struct grey_node_owners), err, errlen) != 0) {
        munmap(p, sizeof(struct grey_node_owners));
        return -1;
    }
    *out = p;
    return 0;
}

void grey_node_owners_publish(struct grey_node_owners *t, uint32_t i, const struct grey_node_owner_fields *f)
{
    if (i >= GREY_LEDGER_SLOTS)
        return;
    struct grey_node_owner *e = &t->slot[i];
    uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);
    atomic_store_explicit(&e->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&e->state, (uint32_t)f->state, memory_order_relaxed);
    atomic_store_explicit(&e->pid, f->pid, memory_order_relaxed);
    atomic_store_explicit(&e->uid, f->uid, memory_order_relaxed);
    atomic_store_explicit(&e->start_time, f->start_time, memory_order_relaxed);
    atomic_store_explicit(&e->host_pid, f->host_pid, memory_order_relaxed);
    for (int r = 0; r < GREY_MAX_DEVICES; r++)
        atomic_store_explicit(&e->ceiling[r], f->ceiling[r], memory_order_relaxed);
    atomic_store_explicit(&e->seq, s + 2, memory_order_release);
}

uint32_t grey_node_owners_weight(const struct grey_node_owners *t, uint32_t i, int32_t pid, uint64_t start_time,
                                 int row, uint32_t weight)
{
    if (!t)
        return weight;
    if (i >= GREY_LEDGER_SLOTS || row < 0 || row >= GREY_MAX_DEVICES)
        return GREY_NODE_UNVOUCHED_WEIGHT;
    const struct grey_node_owner *e = &t->slot[i];
    uint32_t before = atomic_load_explicit(&e->seq, memory_order_acquire);
    if (before & 1)
        return GREY_NODE_UNVOUCHED_WEIGHT; /* being rewritten: a few ns from now it is right */
    uint32_t state = atomic_load_explicit(&e->state, memory_order_relaxed);
    int32_t epid = atomic_load_explicit(&e->pid, memory_order_relaxed);
    uint64_t estart = atomic_load_explicit(&e->start_time, memory_order_relaxed);
    uint32_t ceiling = atomic_load_explicit(&e->ceiling[row], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&e->seq, memory_order_relaxed) != before)
        return GREY_NODE_UNVOUCHED_WEIGHT;
    if (state != GREY_OWNER_KNOWN || epid != pid || estart != start_time)
        return GREY_NODE_UNVOUCHED_WEIGHT;
    uint32_t w = weight ? weight : 1;
    if (ceiling < 1)
        ceiling = 1;
    return w < ceiling ? w : ceiling;
}

uint32_t grey_node_slot_weight(const struct grey_node_owners *t, const struct grey_ledger_header *h,
                               const struct grey_slot *slot, int row)
{
    uint32_t w = atomic_load_explicit(&((struct grey_slot *)slot)->fair[row].weight, memory_order_relaxed);
    if (!t)
        return w;
    const struct grey_slot *slots = (const struct grey_slot *)(h + 1);
    uint32_t i = (uint32_t)(slot - slots);
    return grey_node_owners_weight(t, i, __atomic_load_n(&slot->pid, __ATOMIC_RELAXED),
                                   __atomic_load_n(&slot->start_time, __ATOMIC_RELAXED), row, w);
}
