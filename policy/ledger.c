#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "procinfo.h"

/* Layout checks at compile time: the slot counters must stay one cache line per device, and the
 * structures must not change size by accident (that would be a new layout version). */
_Static_assert(sizeof(struct grey_slot_device) == 64, "device counters are one cache line");
_Static_assert(sizeof(struct grey_slot) % 64 == 0, "slots are whole cache lines");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "ledger counters must be lock-free in shared memory");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "slot states must be lock-free in shared memory");
_Static_assert(sizeof(struct grey_ledger_header) == 1408 && sizeof(struct grey_slot) == 2240,
               "sizes are part of the layout version");
_Static_assert(sizeof(struct grey_fair_device) == 64 && sizeof(struct grey_slot_fair) == 64 &&
               offsetof(struct grey_ledger_header, fair) % 64 == 0, "fair-share state is cache lines");
_Static_assert(GREY_LEDGER_SLOTS + 1 < (1u << GREY_TOKEN_HOLDER_BITS), "a token holds any slot");

static const size_t ledger_total_size = GREY_LEDGER_TOTAL_SIZE;

int grey_ledger_validate(const void *base, size_t size, char *err, size_t errlen)
{
    const struct grey_ledger_header *h = base;
    if (size < sizeof *h)
        return grey_error(err, errlen, "truncated: %zu bytes, smaller than the header", size);
    if (memcmp(h->magic, GREY_LEDGER_MAGIC, sizeof h->magic) != 0)
        return grey_error(err, errlen, "not a grey ledger (bad magic)");
    if (h->version != GREY_LEDGER_VERSION)
        return grey_error(err, errlen, "layout version %u, this grey reads version %u; remove the file "
                            "or point GREY_LEDGER elsewhere", h->version, GREY_LEDGER_VERSION);
    if (h->header_size != sizeof(struct grey_ledger_header) || h->slot_size != sizeof(struct grey_slot) ||
        h->nslots != GREY_LEDGER_SLOTS || h->max_devices != GREY_MAX_DEVICES)
        return grey_error(err, errlen, "layout sizes do not match this grey's (header %u, slot %u, "
                            "%u slots, %u devices)", h->header_size, h->slot_size, h->nslots, h->max_devices);
    if (h->total_size != ledger_total_size || size < ledger_total_size)
        return grey_error(err, errlen, "truncated: %zu bytes, expected %zu", size, ledger_total_size);
    return 0;
}

/* Fills a fresh file's header. Called with the file locked and zero-filled by ftruncate, so the
 * slots are already FREE with zero counters. The magic is written last: a reader that maps the
 * file half-way through sees "not a ledger" rather than a header with missing sizes. */
static void ledger_init_header(struct grey_ledger_header *h)
{
    h->version = GREY_LEDGER_VERSION;
    h->header_size = sizeof(struct grey_ledger_header);
    h->slot_size = sizeof(struct grey_slot);
    h->nslots = GREY_LEDGER_SLOTS;
    h->max_devices = GREY_MAX_DEVICES;
    h->total_size = ledger_total_size;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        atomic_store(&h->device_budget[d], UINT64_MAX);
    atomic_thread_fence(memory_order_release);
    memcpy(h->magic, GREY_LEDGER_MAGIC, sizeof h->magic);
}

int grey_ledger_open(const char *path, bool create, struct grey_ledger *lg, char *err, size_t errlen)
{
    return grey_ledger_open_group(path, create, (gid_t)-1, lg, err, errlen);
}

/* A group's ledger: mode 0660 whatever the umask, owned by the group, so every member's hook can
 * map it read-write. Fails (and the caller removes the file) when this process may not give it
 * to that group. */
static int ledger_share(int fd, gid_t gid)
{
    if (fchown(fd, (uid_t)-1, gid) != 0)
        return -1;
    return fchmod(fd, 0660);
}

int grey_ledger_open_group(const char *path, bool create, gid_t gid, struct grey_ledger *lg, char *err,
                           size_t errlen)
{
    memset(lg, 0, sizeof *lg);
    mode_t mode = gid == (gid_t)-1 ? 0600 : 0660;
    int fd = open(path, create ? (O_RDWR | O_CREAT | O_CLOEXEC) : (O_RDWR | O_CLOEXEC), mode);
    if (fd < 0 && !create && errno == EACCES)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return grey_error(err, errlen, "ledger %s: cannot open: %s", path, strerror(errno));

    /* The lock only serializes creation; nobody holds it while the ledger is in use. */
    if (flock(fd, LOCK_EX) != 0) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "ledger %s: cannot lock: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "ledger %s: cannot stat: %s", path, strerror(e));
    }
    bool fresh = create && st.st_size == 0;
    if (fresh && gid != (gid_t)-1 && ledger_share(fd, gid) != 0) {
        int e = errno;
        unlink(path);
        close(fd);
        return grey_error(err, errlen, "ledger %s: cannot give it to group %u: %s", path, (unsigned)gid,
                            strerror(e));
    }
    if (fresh && ftruncate(fd, (off_t)ledger_total_size) != 0) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "ledger %s: cannot size: %s", path, strerror(e));
    }
    size_t size = fresh ? ledger_total_size : (size_t)st.st_size;
    if (size < sizeof(struct grey_ledger_header)) {
        close(fd);
        return grey_error(err, errlen, "ledger %s: truncated: %zu bytes, expected %zu", path, size,
                            ledger_total_size);
    }
    int prot = PROT_READ | ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY ? 0 : PROT_WRITE);
    void *base = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "ledger %s: cannot map: %s", path, strerror(e));
    }
    if (fresh)
        ledger_init_header(base);
    flock(fd, LOCK_UN);
    close(fd);

    char why[200];
    if (grey_ledger_validate(base, size, why, sizeof why) != 0) {
        munmap(base, size);
        return grey_error(err, errlen, "ledger %s: %s", path, why);
    }
    lg->header = base;
    lg->slots = (struct grey_slot *)((char *)base + sizeof(struct grey_ledger_header));
    lg->nslots = GREY_LEDGER_SLOTS;
    lg->map_size = size;
    lg->writable = (prot & PROT_WRITE) != 0;
    return 0;
}

void grey_ledger_close(struct grey_ledger *lg)
{
    if (lg->header)
        munmap(lg->header, lg->map_size);
    memset(lg, 0, sizeof *lg);
}

uint64_t grey_run_id_make(pid_t pid, uint64_t start_time)
{
    return ((uint64_t)(uint32_t)pid << 32) | (start_time & 0xffffffffu);
}

bool grey_run_id_owner_dead(uint64_t run_id)
{
    pid_t pid = (pid_t)(run_id >> 32);
    uint64_t start;
    if (pid <= 0 || grey_proc_start_time(pid, &start) != 0)
        return true;
    return (start & 0xffffffffu) != (run_id & 0xffffffffu);
}

/* Owner fields are plain (their layout predates the atomics) but are read outside the retire
 * lock, as a filter, while a claimer may be filling them: relaxed atomic accesses make that a
 * defined (if stale) read instead of a data race. Under the lock they hold still. */
#define OWNER_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define OWNER_STORE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

bool grey_slot_owner_dead(const struct grey_slot *slot)
{
    return !grey_proc_alive(OWNER_LOAD(slot->pid), OWNER_LOAD(slot->start_time));
}

/* ---------------------------------------------------------------- retiring
 *
 * Bytes leave a slot only through slot_return_bytes, called by the one process that holds the
 * slot exclusively: the retire-lock holder while the slot is RETIRING, or a claimer while it is
 * CLAIMING. The exchange makes every byte leave once even if that rule were broken. */

#define RELAXED memory_order_relaxed

static bool slot_has_bytes(const struct grey_slot *s)
{
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (atomic_load_explicit(&((struct grey_slot *)s)->dev[d].used, RELAXED))
            return true;
    return false;
}

/* Moves the slot's bytes out of the device totals: the slot's count first, the device's after,
 * so that the sum of slots never exceeds device_used, not even half-way. Returns the bytes. */
static uint64_t slot_return_bytes(struct grey_ledger_header *h, struct grey_slot *s)
{
    uint64_t total = 0;
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        uint64_t u = atomic_exchange_explicit(&s->dev[d].used, 0, RELAXED);
        if (u && h)
            atomic_fetch_sub_explicit(&h->device_used[d], u, RELAXED);
        total += u;
    }
    return total;
}

/* Takes the slot's retire lock for me: when free, or from a process that died holding it
 * (killed half-way through a retire; the lock is how its unfinished work is found). Another
 * thread of this process holding it counts as alive. */
static bool retire_lock(struct grey_slot *s, int32_t me)
{
    int32_t cur = 0;
    if (atomic_compare_exchange_strong(&s->retirer, &cur, me))
        return true;
    if (cur == me || grey_proc_exists(cur))
        return false;
    return atomic_compare_exchange_strong(&s->retirer, &cur, me);
}

static void retire_unlock(struct grey_slot *s, int32_t me)
{
    int32_t cur = me;
    atomic_compare_exchange_strong(&s->retirer, &cur, 0);
}

/* With the retire lock held: moves the slot to RETIRING, returns its bytes and marks it EXITED,
 * if it still needs it. self: the owner retiring its own ACTIVE slot; otherwise the slot must be
 * orphaned (see slot_orphaned), checked again here because only now does it hold still: an
 * ACTIVE or RETIRING slot changes state only under this lock. An EXITED slot can still be
 * recycled by a claimer (no lock), so it is checked after the CAS that makes it ours, and put
 * back if it turns out to be someone else's by then. */
static bool retire_locked(struct grey_ledger_header *h, struct grey_slot *s, bool self, uint64_t *bytes)
{
    uint32_t st = atomic_load(&s->state);
    switch (st) {
    case GREY_SLOT_ACTIVE:
        if (!self && !grey_slot_owner_dead(s))
            return false;
        atomic_store(&s->state, GREY_SLOT_RETIRING);
        break;
    case GREY_SLOT_RETIRING: /* its retirer died half-way (we took the lock over) */
        if (self)
            return false;
        break;
    case GREY_SLOT_CLAIMING: { /* its claimer died half-way: the slot never had an owner */
        if (self)
            return false;
        uint64_t b = slot_return_bytes(h, s);
        if (bytes)
            *bytes = b;
        atomic_store(&s->state, GREY_SLOT_FREE);
        return true;
    }
    case GREY_SLOT_EXITED: {
        if (self || !slot_has_bytes(s))
            return false;
        uint32_t expected = GREY_SLOT_EXITED;
        if (!atomic_compare_exchange_strong(&s->state, &expected, GREY_SLOT_RETIRING))
            return false;
        if (!grey_slot_owner_dead(s)) {
            atomic_store(&s->state, GREY_SLOT_EXITED);
            return false;
        }
        break;
    }
    default:
        return false;
    }
    uint64_t b = slot_return_bytes(h, s);
    if (bytes)
        *bytes = b;
    atomic_store(&s->state, GREY_SLOT_EXITED);
    return true;
}

bool grey_slot_retire(struct grey_ledger_header *h, struct grey_slot *slot)
{
    int32_t me = (int32_t)getpid();
    /* A reclaimer holds a live owner's lock only for the instant it takes to see the slot is
     * not orphaned after all, so a short wait is enough; if it stays busy, the slot is retired by
     * a reclaim once this process is gone. */
    for (int tries = 0; !retire_lock(slot, me); tries++) {
        if (tries >= 1000)
            return false;
        sched_yield();
    }
    bool done = retire_locked(h, slot, true, NULL);
    retire_unlock(slot, me);
    return done;
}

/* Whether a reclaim should look at s under its lock: its owner (or, half-way through a retire
 * or a claim, the lock holder) is dead, or it is EXITED with bytes still counted by a dead owner
 * (a thread that allocated while its process exited). A cheap filter: retire_locked decides. */
static bool slot_orphaned(const struct grey_slot *s)
{
    switch (grey_slot_state(s)) {
    case GREY_SLOT_ACTIVE:
        return grey_slot_owner_dead(s);
    case GREY_SLOT_CLAIMING:
    case GREY_SLOT_RETIRING: {
        int32_t r = atomic_load(&((struct grey_slot *)s)->retirer);
        return r == 0 || !grey_proc_exists(r);
    }
    case GREY_SLOT_EXITED:
        return slot_has_bytes(s) && grey_slot_owner_dead(s);
    default:
        return false;
    }
}

/* Retires one orphaned slot; true when this call did it. */
static bool reclaim_one(struct grey_ledger *lg, struct grey_slot *s, int32_t me)
{
    if (!slot_orphaned(s) || !retire_lock(s, me))
        return false;
    uint64_t bytes = 0;
    bool done = retire_locked(lg->header, s, false, &bytes);
    retire_unlock(s, me);
    if (done) {
        atomic_fetch_add(&lg->header->reclaimed_slots, 1);
        atomic_fetch_add(&lg->header->reclaimed_bytes, bytes);
    }
    return done;
}

/* Bytes in the device totals that no slot holds (a process killed between the two steps of an
 * admission or a free) go back once no process is left that could be half-way through a step:
 * every slot FREE or EXITED, none holding bytes. The totals are read before that check and
 * replaced by CAS, so a process that starts meanwhile and moves bytes makes the CAS fail. */
static void return_orphaned(struct grey_ledger *lg)
{
    uint64_t seen[GREY_MAX_DEVICES];
    bool any = false;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        any |= (seen[d] = atomic_load(&lg->header->device_used[d])) != 0;
    if (!any)
        return;
    for (uint32_t i = 0; i < lg->nslots; i++) {
        uint32_t st = grey_slot_state(&lg->slots[i]);
        if ((st != GREY_SLOT_FREE && st != GREY_SLOT_EXITED) || slot_has_bytes(&lg->slots[i]))
            return;
    }
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (seen[d] && atomic_compare_exchange_strong(&lg->header->device_used[d], &seen[d], 0))
            atomic_fetch_add(&lg->header->orphaned_bytes, seen[d]);
}

unsigned grey_ledger_reclaim(struct grey_ledger *lg)
{
    int32_t me = (int32_t)getpid();
    unsigned n = 0;
    for (uint32_t i = 0; i < lg->nslots; i++)
        n += reclaim_one(lg, &lg->slots[i], me);
    return_orphaned(lg);
    return n;
}

unsigned grey_ledger_reclaim_limited(struct grey_ledger *lg, uint64_t now_ns, uint64_t interval_ns)
{
    uint64_t last = atomic_load(&lg->header->last_reclaim_ns);
    /* A stamp from the future (another boot's clock, a damaged file) does not block scans. */
    if (now_ns >= last && now_ns - last < interval_ns)
        return 0;
    if (!atomic_compare_exchange_strong(&lg->header->last_reclaim_ns, &last, now_ns))
        return 0; /* another process just started a scan */
    return grey_ledger_reclaim(lg);
}

void grey_slot_collect(struct grey_ledger *lg, struct grey_slot *slot)
{
    uint32_t st = grey_slot_state(slot);
    if (st == GREY_SLOT_ACTIVE || st == GREY_SLOT_RETIRING)
        reclaim_one(lg, slot, (int32_t)getpid());
    grey_slot_release(slot);
}

void grey_slot_release(struct grey_slot *slot)
{
    uint32_t expected = GREY_SLOT_EXITED;
    atomic_compare_exchange_strong(&slot->state, &expected, GREY_SLOT_FREE);
}

unsigned grey_ledger_live_slots(struct grey_ledger *lg, const struct grey_slot *except)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < lg->nslots; i++) {
        const struct grey_slot *s = &lg->slots[i];
        if (s != except && grey_slot_state(s) == GREY_SLOT_ACTIVE && !grey_slot_owner_dead(s))
            n++;
    }
    return n;
}

/* ---------------------------------------------------------------- claiming */

/* Fills a slot this claimer holds (CLAIMING). Bytes a previous owner left counted (a straggler
 * thread of an exiting process) go back first: the claimer holds the slot exclusively. */
static void slot_fill(struct grey_ledger_header *h, struct grey_slot *s, pid_t pid, uint64_t start_time,
                      uint64_t run_id, uint32_t uid, const char *command)
{
    slot_return_bytes(h, s);
    OWNER_STORE(s->pid, pid);
    OWNER_STORE(s->uid, uid);
    OWNER_STORE(s->start_time, start_time);
    OWNER_STORE(s->run_id, run_id);
    snprintf(s->command, sizeof s->command, "%s", command ? command : "");
    atomic_store(&s->flags, 0);
    atomic_store(&s->launches, 0);
    atomic_store(&s->heartbeat_ns, 0);
    atomic_store(&s->devices_used, 0);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        struct grey_slot_device *dev = &s->dev[d];
        atomic_store(&dev->cap, UINT64_MAX);
        atomic_store(&dev->peak, 0);
        atomic_store(&dev->allocs, 0);
        atomic_store(&dev->frees, 0);
        atomic_store(&dev->denied, 0);
        atomic_store(&dev->largest_denied, 0);
    }
}

/* Takes slot s if it is in state expected; the CAS makes exactly one claimer win. The claimer
 * holds the slot's retire lock until the slot is ACTIVE, so that a claimer killed half-way is
 * recognised (a dead lock holder) and its slot reclaimed instead of staying CLAIMING forever. */
static bool slot_take(struct grey_slot *s, uint32_t expected, int32_t me)
{
    if (!retire_lock(s, me))
        return false;
    if (atomic_compare_exchange_strong(&s->state, &expected, GREY_SLOT_CLAIMING))
        return true;
    retire_unlock(s, me);
    return false;
}

/* An EXITED slot nobody will collect: no grey-run, or its grey-run is gone. */
static bool slot_recyclable(const struct grey_slot *s)
{
    uint64_t run = OWNER_LOAD(s->run_id);
    return grey_slot_state(s) == GREY_SLOT_EXITED && (run == 0 || grey_run_id_owner_dead(run));
}

/* Finds a slot this claimer may take and takes it (state CLAIMING, lock held), or NULL. */
static struct grey_slot *slot_find_and_take(struct grey_ledger *lg, int32_t me)
{
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        if (grey_slot_state(s) == GREY_SLOT_FREE && slot_take(s, GREY_SLOT_FREE, me))
            return s;
    }
    /* Full: dead owners' slots give their bytes back and become EXITED, then recyclable. */
    grey_ledger_reclaim(lg);
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        if (!slot_recyclable(s) || !slot_take(s, GREY_SLOT_EXITED, me))
            continue;
        /* Between the check and the CAS another claimer may have recycled it and its new owner
         * exited under a live grey-run: ours now, so check again, and give it back if so. */
        uint64_t run = OWNER_LOAD(s->run_id);
        if (run == 0 || grey_run_id_owner_dead(run))
            return s;
        atomic_store(&s->state, GREY_SLOT_EXITED);
        retire_unlock(s, me);
    }
    return NULL;
}

struct grey_slot *grey_ledger_claim(struct grey_ledger *lg, pid_t pid, uint64_t start_time,
                                    uint64_t run_id, uint32_t uid, const char *command)
{
    /* Our own image before an exec never ran its destructor; its driver state died with it, so
     * its bytes go back now. */
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        if (grey_slot_state(s) == GREY_SLOT_ACTIVE && OWNER_LOAD(s->pid) == pid &&
            OWNER_LOAD(s->start_time) == start_time)
            grey_slot_retire(lg->header, s);
    }
    int32_t me = (int32_t)getpid();
    struct grey_slot *s = slot_find_and_take(lg, me);
    if (!s)
        return NULL;
    slot_fill(lg->header, s, pid, start_time, run_id, uid, command);
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    retire_unlock(s, me);
    return s;
}
