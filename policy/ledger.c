#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procinfo.h"

/* Layout checks at compile time: the slot counters must stay one cache line per device, and the
 * structures must not change size by accident (that would be a new layout version). */
_Static_assert(sizeof(struct grey_slot_device) == 64, "device counters are one cache line");
_Static_assert(sizeof(struct grey_slot) % 64 == 0, "slots are whole cache lines");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "ledger counters must be lock-free in shared memory");

static const size_t ledger_total_size =
    sizeof(struct grey_ledger_header) + GREY_LEDGER_SLOTS * sizeof(struct grey_slot);

static int ledger_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void grey_ledger_default_path(char *buf, size_t buflen)
{
    const char *env = getenv("GREY_LEDGER");
    if (env && *env)
        snprintf(buf, buflen, "%s", env);
    else
        snprintf(buf, buflen, "/dev/shm/grey-%u.ledger", (unsigned)getuid());
}

int grey_ledger_validate(const void *base, size_t size, char *err, size_t errlen)
{
    const struct grey_ledger_header *h = base;
    if (size < sizeof *h)
        return ledger_error(err, errlen, "truncated: %zu bytes, smaller than the header", size);
    if (memcmp(h->magic, GREY_LEDGER_MAGIC, sizeof h->magic) != 0)
        return ledger_error(err, errlen, "not a grey ledger (bad magic)");
    if (h->version != GREY_LEDGER_VERSION)
        return ledger_error(err, errlen, "layout version %u, this grey reads version %u; remove the file "
                            "or point GREY_LEDGER elsewhere", h->version, GREY_LEDGER_VERSION);
    if (h->header_size != sizeof(struct grey_ledger_header) || h->slot_size != sizeof(struct grey_slot) ||
        h->nslots != GREY_LEDGER_SLOTS || h->max_devices != GREY_MAX_DEVICES)
        return ledger_error(err, errlen, "layout sizes do not match this grey's (header %u, slot %u, "
                            "%u slots, %u devices)", h->header_size, h->slot_size, h->nslots, h->max_devices);
    if (h->total_size != ledger_total_size || size < ledger_total_size)
        return ledger_error(err, errlen, "truncated: %zu bytes, expected %zu", size, ledger_total_size);
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
    memset(lg, 0, sizeof *lg);
    int fd = open(path, create ? (O_RDWR | O_CREAT | O_CLOEXEC) : (O_RDWR | O_CLOEXEC), 0600);
    if (fd < 0 && !create && errno == EACCES)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ledger_error(err, errlen, "ledger %s: cannot open: %s", path, strerror(errno));

    /* The lock only serializes creation; nobody holds it while the ledger is in use. */
    if (flock(fd, LOCK_EX) != 0) {
        int e = errno;
        close(fd);
        return ledger_error(err, errlen, "ledger %s: cannot lock: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ledger_error(err, errlen, "ledger %s: cannot stat: %s", path, strerror(e));
    }
    bool fresh = create && st.st_size == 0;
    if (fresh && ftruncate(fd, (off_t)ledger_total_size) != 0) {
        int e = errno;
        close(fd);
        return ledger_error(err, errlen, "ledger %s: cannot size: %s", path, strerror(e));
    }
    size_t size = fresh ? ledger_total_size : (size_t)st.st_size;
    if (size < sizeof(struct grey_ledger_header)) {
        close(fd);
        return ledger_error(err, errlen, "ledger %s: truncated: %zu bytes, expected %zu", path, size,
                            ledger_total_size);
    }
    int prot = PROT_READ | ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY ? 0 : PROT_WRITE);
    void *base = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        close(fd);
        return ledger_error(err, errlen, "ledger %s: cannot map: %s", path, strerror(e));
    }
    if (fresh)
        ledger_init_header(base);
    flock(fd, LOCK_UN);
    close(fd);

    char why[200];
    if (grey_ledger_validate(base, size, why, sizeof why) != 0) {
        munmap(base, size);
        return ledger_error(err, errlen, "ledger %s: %s", path, why);
    }
    lg->header = base;
    lg->slots = (struct grey_slot *)((char *)base + sizeof(struct grey_ledger_header));
    lg->nslots = GREY_LEDGER_SLOTS;
    lg->map_size = size;
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

bool grey_slot_owner_dead(const struct grey_slot *slot)
{
    return !grey_proc_alive(slot->pid, slot->start_time);
}

static void slot_fill(struct grey_slot *s, pid_t pid, uint64_t start_time, uint64_t run_id, uint32_t uid,
                      const char *command)
{
    s->pid = pid;
    s->uid = uid;
    s->start_time = start_time;
    s->run_id = run_id;
    snprintf(s->command, sizeof s->command, "%s", command ? command : "");
    atomic_store(&s->flags, 0);
    atomic_store(&s->launches, 0);
    atomic_store(&s->heartbeat_ns, 0);
    atomic_store(&s->devices_used, 0);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        struct grey_slot_device *dev = &s->dev[d];
        atomic_store(&dev->cap, UINT64_MAX);
        atomic_store(&dev->used, 0);
        atomic_store(&dev->peak, 0);
        atomic_store(&dev->allocs, 0);
        atomic_store(&dev->frees, 0);
        atomic_store(&dev->denied, 0);
        atomic_store(&dev->largest_denied, 0);
    }
}

/* Takes slot s if it is in state expected; the CAS makes exactly one claimer win. */
static bool slot_take(struct grey_slot *s, uint32_t expected)
{
    return atomic_compare_exchange_strong(&s->state, &expected, GREY_SLOT_CLAIMING);
}

/* A slot that can be recycled: its owner is dead, or it is EXITED and nobody will collect it. */
static bool slot_recyclable(const struct grey_slot *s, uint32_t state)
{
    if (state == GREY_SLOT_ACTIVE)
        return grey_slot_owner_dead(s);
    if (state == GREY_SLOT_EXITED)
        return s->run_id == 0 || grey_run_id_owner_dead(s->run_id);
    return false;
}

/* Finds a slot this claimer may take and takes it (state CLAIMING), or returns NULL. */
static struct grey_slot *slot_find_and_take(struct grey_ledger *lg)
{
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        if (atomic_load(&s->state) == GREY_SLOT_FREE && slot_take(s, GREY_SLOT_FREE))
            return s;
    }
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        uint32_t state = atomic_load(&s->state);
        if (slot_recyclable(s, state) && slot_take(s, state))
            return s;
    }
    return NULL;
}

struct grey_slot *grey_ledger_claim(struct grey_ledger *lg, pid_t pid, uint64_t start_time,
                                    uint64_t run_id, uint32_t uid, const char *command)
{
    /* Our own image before an exec never ran its destructor; its driver state died with it. */
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        if (atomic_load(&s->state) == GREY_SLOT_ACTIVE && s->pid == pid && s->start_time == start_time)
            grey_slot_exit(s);
    }
    struct grey_slot *s = slot_find_and_take(lg);
    if (!s)
        return NULL;
    slot_fill(s, pid, start_time, run_id, uid, command);
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    return s;
}

void grey_slot_exit(struct grey_slot *slot)
{
    atomic_store(&slot->state, GREY_SLOT_EXITED);
}

void grey_slot_release(struct grey_slot *slot)
{
    atomic_store(&slot->state, GREY_SLOT_FREE);
}
