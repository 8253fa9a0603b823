#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "file_owner.h"
#include "safe_file.h"

/* Layout checks at compile time: the slot counters must stay one cache line per device, and the
 * structures must not change size by accident (that would be a new layout version). */
_Static_assert(sizeof(struct grey_slot_device) == 64, "device counters are one cache line");
_Static_assert(sizeof(struct grey_slot) % 64 == 0, "slots are whole cache lines");
_Static_assert(offsetof(struct grey_slot, dev) == 192, "the owner part is three cache lines");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "ledger counters must be lock-free in shared memory");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "slot states must be lock-free in shared memory");
_Static_assert(sizeof(struct grey_fair_device) == 64 && sizeof(struct grey_slot_fair) == 64 &&
               offsetof(struct grey_ledger_header, fair) % 64 == 0, "fair-share state is cache lines");
_Static_assert(sizeof(struct grey_ledger_header) % 64 == 0, "the slots start on a cache line");
_Static_assert(GREY_LEDGER_SLOTS + 1 < (1u << GREY_TOKEN_HOLDER_BITS), "a token holds any slot");
_Static_assert(GREY_MAX_DEVICES <= 64, "device masks are 64 bits");

static const size_t ledger_total_size = GREY_LEDGER_TOTAL_SIZE;

#define RELAXED memory_order_relaxed

/* Threads of one process share its open file description, so its locks do not exclude them
 * from each other: every sequence "take a slot's lock, look, act, let go" runs under this mutex
 * as well. Off every hot path (claims, retires, reclaim scans, collection). */
static pthread_mutex_t local = PTHREAD_MUTEX_INITIALIZER;

void grey_ledger_fork_prepare(void) { pthread_mutex_lock(&local); }
void grey_ledger_fork_parent(void) { pthread_mutex_unlock(&local); }
void grey_ledger_fork_child(void) { pthread_mutex_init(&local, NULL); }

/* ---------------------------------------------------------------- locks */

static uint64_t slot_offset(uint32_t i)
{
    return sizeof(struct grey_ledger_header) + (uint64_t)i * sizeof(struct grey_slot);
}

uint64_t grey_ledger_slot_lock_offset(uint32_t i) { return slot_offset(i); }

static uint64_t run_offset(uint32_t k)
{
    return ledger_total_size + k; /* past the end of the file: a lock needs no data under it */
}

static uint64_t gpu_row_offset(unsigned r)
{
    return offsetof(struct grey_ledger_header, gpu) + (uint64_t)r * sizeof(struct grey_ledger_gpu);
}

static bool lock_take(const struct grey_ledger *lg, uint64_t off)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)off, .l_len = 1};
    return lg->fd >= 0 && fcntl(lg->fd, F_OFD_SETLK, &fl) == 0;
}

static void lock_drop(const struct grey_ledger *lg, uint64_t off)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = (off_t)off, .l_len = 1};
    if (lg->fd >= 0)
        fcntl(lg->fd, F_OFD_SETLK, &fl);
}

/* Held by another open file description (another process, or another ledger opened by this
 * one). A failed test counts as held: liveness errs towards keeping bytes counted. */
static bool lock_held(const struct grey_ledger *lg, uint64_t off)
{
    if (lg->fd < 0)
        return true;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)off, .l_len = 1};
    if (fcntl(lg->fd, F_OFD_GETLK, &fl) != 0)
        return true;
    return fl.l_type != F_UNLCK;
}

bool grey_ledger_slot_dead(const struct grey_ledger *lg, uint32_t i)
{
    if (i >= lg->nslots || (int32_t)i == lg->own)
        return false;
    return !lock_held(lg, slot_offset(i));
}

/* ---------------------------------------------------------------- opening */

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
        h->nslots != GREY_LEDGER_SLOTS || h->max_devices != GREY_MAX_DEVICES || h->nruns != GREY_LEDGER_RUNS)
        return grey_error(err, errlen, "layout sizes do not match this grey's (header %u, slot %u, "
                            "%u slots, %u devices, %u runs)", h->header_size, h->slot_size, h->nslots,
                            h->max_devices, h->nruns);
    if (h->total_size != ledger_total_size || size < ledger_total_size)
        return grey_error(err, errlen, "truncated: %zu bytes, expected %zu", size, ledger_total_size);
    return 0;
}

/* Fills a fresh file's header. Called on a zero-filled file (allocate_fully) that nobody else can
 * see yet (create_ledger_file), so the slots are already FREE with zero counters. The magic is
 * still written last, after a release fence. */
static void ledger_init_header(struct grey_ledger_header *h)
{
    h->version = GREY_LEDGER_VERSION;
    h->header_size = sizeof(struct grey_ledger_header);
    h->slot_size = sizeof(struct grey_slot);
    h->nslots = GREY_LEDGER_SLOTS;
    h->max_devices = GREY_MAX_DEVICES;
    h->nruns = GREY_LEDGER_RUNS;
    h->total_size = ledger_total_size;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        atomic_store(&h->device_budget[d], UINT64_MAX);
    atomic_thread_fence(memory_order_release);
    memcpy(h->magic, GREY_LEDGER_MAGIC, sizeof h->magic);
}

void grey_ledger_format(void *base) { ledger_init_header(base); }

int grey_ledger_open(const char *path, bool create, struct grey_ledger *lg, char *err, size_t errlen)
{
    return grey_ledger_open_group(path, create ? GREY_LEDGER_CREATE : 0, (gid_t)-1, lg, err, errlen);
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

static int open_fail(int fd, char *err, size_t errlen, const char *path, const char *what, int e)
{
    if (fd >= 0)
        close(fd);
    return grey_error(err, errlen, "ledger %s: %s: %s", path, what, strerror(e));
}

/* Whether this process may use an existing ledger file for writing: its own, or the node's
 * ledger that root made for the plan's group (see file_owner.h for "root" inside a user
 * namespace). Another user's file is refused: its owner could read our state, rewrite it between
 * our checks, or delete it and so reset every budget. */
static int check_owner(const struct stat *st, gid_t gid, const char *path, char *err, size_t errlen)
{
    if (st->st_uid == geteuid())
        return 0;
    if (gid != (gid_t)-1 && grey_owner_is_root(st->st_uid)) {
        if (st->st_mode & S_IWOTH)
            return grey_error(err, errlen, "ledger %s: root's, but writable by every user; refusing it", path);
        if (st->st_gid == gid || grey_group_unmapped(st->st_gid))
            return 0;
        return grey_error(err, errlen, "ledger %s: root's, but its group is %u, not the plan's ledger_group (%u); "
                          "refusing it", path, (unsigned)st->st_gid, (unsigned)gid);
    }
    return grey_error(err, errlen, "ledger %s: owned by uid %u, not by this user (uid %u)%s; refusing it (its "
                      "owner could reset or forge it)", path, (unsigned)st->st_uid, (unsigned)geteuid(),
                      gid != (gid_t)-1 ? " or root" : "");
}

/* Gives a fresh file its blocks before it is mapped: a sparse file on a full tmpfs would raise
 * SIGBUS at the first write into a hole, inside the host program. fallocate(2) itself, not
 * posix_fallocate: the C library's fallback writes a byte into every block, which on a live
 * ledger would be a write nobody locked. A file system without fallocate gets zeros written. */
static int allocate_fully(int fd, off_t size)
{
    if (fallocate(fd, 0, 0, size) == 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS)
        return -1;
    static const char zeros[4096];
    for (off_t off = 0; off < size;) {
        size_t n = (size_t)(size - off < (off_t)sizeof zeros ? size - off : (off_t)sizeof zeros);
        ssize_t w = pwrite(fd, zeros, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += w;
    }
    return 0;
}

/* An existing ledger must have every block too (an older grey, or a crash mid-creation, may
 * have left holes): st_blocks counts 512-byte units. Filling holes with fallocate changes no
 * byte, so it is safe on a live file. */
static int check_allocated(int fd, const struct stat *st, bool writable)
{
    /* A reader never faults on a hole (it reads the zero page); only writes need the blocks. A
     * file system that cannot preallocate (or counts blocks compressed) cannot be judged this
     * way, and is taken as it is. */
    if (!writable || (uint64_t)st->st_blocks * 512u >= (uint64_t)st->st_size)
        return 0;
    if (fallocate(fd, 0, 0, st->st_size) == 0 || errno == EOPNOTSUPP || errno == ENOSYS)
        return 0;
    return -1;
}

/* Makes a complete ledger under a temporary name beside path (group, mode, every block, the
 * header) and links it into place, so nobody ever sees a half-made one: any file of the wrong
 * size at a ledger path is then damage, refused rather than "initialized" (which would reset
 * every budget). Returns the open descriptor, -1 with the reason in err, or -2 when another
 * process linked its ledger first (the caller opens that one). */
static int create_ledger_file(const char *path, gid_t gid, char *err, size_t errlen)
{
    char tmp[4200], why[4300];
    int fd = grey_safe_temp_beside(path, 0600, tmp, sizeof tmp, why, sizeof why);
    if (fd < 0)
        return grey_error(err, errlen, "ledger %s", why);
    int e = 0;
    const char *what = NULL;
    void *base = MAP_FAILED;
    if (gid != (gid_t)-1 && ledger_share(fd, gid) != 0)
        what = "cannot give it to the plan's ledger_group";
    else if (ftruncate(fd, (off_t)ledger_total_size) != 0 || allocate_fully(fd, (off_t)ledger_total_size) != 0)
        what = "cannot allocate its bytes";
    else if ((base = mmap(NULL, ledger_total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
        what = "cannot map";
    if (what) {
        e = errno;
        close(fd);
        unlink(tmp);
        return grey_error(err, errlen, "ledger %s: %s (%zu bytes): %s", path, what, ledger_total_size, strerror(e));
    }
    ledger_init_header(base);
    munmap(base, ledger_total_size);
    int linked = link(tmp, path);
    e = errno;
    unlink(tmp);
    if (linked == 0)
        return fd;
    close(fd);
    if (e == EEXIST)
        return -2;
    return grey_error(err, errlen, "ledger %s: cannot put it in place: %s", path, strerror(e));
}

int grey_ledger_open_group(const char *path, unsigned flags, gid_t gid, struct grey_ledger *lg, char *err,
                           size_t errlen)
{
    memset(lg, 0, sizeof *lg);
    lg->fd = -1;
    lg->own = lg->own_run = -1;
    bool create = (flags & GREY_LEDGER_CREATE) != 0;
    /* The node's ledger is made by root only: a file another user made would be theirs to reset. */
    bool node_unmade = (flags & GREY_LEDGER_NODE) && !grey_owner_is_root(geteuid());
    struct stat st;
    bool made = false, unused;
    char why[4300];
    int fd = -1;
    for (int tries = 0; tries < 4 && fd < 0; tries++) {
        fd = grey_safe_open(path, O_RDWR, false, 0, &st, &unused, why, sizeof why);
        if (fd < 0 && !create && errno == EACCES)
            fd = grey_safe_open(path, O_RDONLY, false, 0, &st, &unused, why, sizeof why);
        if (fd >= 0 || errno != ENOENT || !create)
            break;
        if (node_unmade)
            return grey_error(err, errlen, "ledger %s: does not exist yet, and only root creates the node's ledger "
                              "(the admin runs one hooked command as root, e.g. at boot)", path);
        fd = create_ledger_file(path, gid, err, errlen);
        if (fd == -1)
            return -1;
        made = fd >= 0;
        if (made && fstat(fd, &st) != 0)
            return open_fail(fd, err, errlen, path, "cannot stat", errno);
    }
    if (fd < 0)
        return grey_error(err, errlen, "ledger %s", why);
    bool writable = (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY;
    if (writable && !made && check_owner(&st, gid, path, err, errlen) != 0) {
        close(fd);
        /* A reader (grey-top on another user's ledger) may still look, without writing. */
        if (create || (fd = grey_safe_open(path, O_RDONLY, false, 0, &st, &unused, why, sizeof why)) < 0)
            return create ? -1 : grey_error(err, errlen, "ledger %s", why);
        writable = false;
    }
    size_t size = (size_t)st.st_size;
    if (size != ledger_total_size) {
        close(fd);
        return grey_error(err, errlen, "ledger %s: %zu bytes, expected %zu (damaged or truncated); refusing it "
                          "(its owner may remove it)", path, size, ledger_total_size);
    }
    if (check_allocated(fd, &st, writable) != 0) {
        close(fd);
        return grey_error(err, errlen, "ledger %s: has unallocated blocks and no room to fill them (is its file "
                          "system full?); refusing it", path);
    }
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *base = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return open_fail(fd, err, errlen, path, "cannot map", errno);
    if (grey_ledger_validate(base, size, why, sizeof why) != 0) {
        munmap(base, size);
        close(fd);
        return grey_error(err, errlen, "ledger %s: %s", path, why);
    }
    lg->header = base;
    lg->slots = (struct grey_slot *)((char *)base + sizeof(struct grey_ledger_header));
    lg->nslots = GREY_LEDGER_SLOTS;
    lg->map_size = size;
    lg->writable = writable;
    lg->fd = fd;
    return 0;
}

void grey_ledger_close(struct grey_ledger *lg)
{
    if (lg->header)
        munmap(lg->header, lg->map_size);
    if (lg->fd >= 0)
        close(lg->fd);
    memset(lg, 0, sizeof *lg);
    lg->fd = -1;
    lg->own = lg->own_run = -1;
}

int grey_ledger_new_description(struct grey_ledger *lg)
{
    lg->own = lg->own_run = -1;
    if (lg->fd < 0)
        return -1;
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", lg->fd);
    /* Through /proc: the very file we have open, even if its path now names another. */
    int fd = open(self, (lg->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    /* The mapping holds the old description too (a mapping keeps its file open), so it is
     * replaced in place by one of the new description: same address, so every pointer into the
     * ledger stays valid, and the old description, with its locks, goes once the fd is closed. */
    if (fd >= 0 && lg->header &&
        mmap(lg->header, lg->map_size, PROT_READ | (lg->writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED, fd, 0) ==
            MAP_FAILED) {
        close(fd);
        fd = -1;
    }
    close(lg->fd);
    lg->fd = fd;
    return fd >= 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- runs */

int grey_ledger_run_begin(struct grey_ledger *lg, uint64_t *run_id)
{
    uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != (ssize_t)sizeof nonce) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        nonce = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
    }
    nonce &= (1ull << 48) - 1;
    nonce |= nonce == 0; /* 0 means "no run" */
    for (uint32_t k = 0; k < GREY_LEDGER_RUNS; k++) {
        if (!lock_take(lg, run_offset(k)))
            continue;
        atomic_store(&lg->header->run[k].processes, 0);
        atomic_store(&lg->header->run[k].nonce, nonce);
        *run_id = ((uint64_t)(k + 1) << 48) | nonce;
        lg->own_run = (int32_t)k;
        return 0;
    }
    return -1;
}

/* The run id's lock byte, or -1 when the id names no run. */
static int run_of(uint64_t run_id)
{
    uint64_t k = run_id >> 48;
    return k >= 1 && k <= GREY_LEDGER_RUNS ? (int)(k - 1) : -1;
}

bool grey_ledger_run_dead(const struct grey_ledger *lg, uint64_t run_id)
{
    int k = run_of(run_id);
    if (k < 0 || atomic_load(&lg->header->run[k].nonce) != (run_id & ((1ull << 48) - 1)))
        return true; /* no run, or its byte went to another run since */
    if (k == lg->own_run)
        return false; /* grey-run asking about its own run: its description holds the lock */
    return !lock_held(lg, run_offset((uint32_t)k));
}

uint64_t grey_ledger_run_slotless(const struct grey_ledger *lg, uint64_t run_id)
{
    int k = run_of(run_id);
    if (k < 0 || atomic_load(&lg->header->run[k].nonce) != (run_id & ((1ull << 48) - 1)))
        return 0;
    return atomic_load(&lg->header->run[k].processes);
}

/* ---------------------------------------------------------------- retiring
 *
 * Bytes leave a slot only through slot_return_bytes, called by whoever holds the slot's lock
 * (and the local mutex): its owner, a claimer, or a reclaimer that found the owner dead. The
 * exchange makes every byte leave once even if that rule were broken. */

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

/* A retired slot's last state. A process that never used a GPU needs no summary: its slot is free
 * for others at once, and its run counts it (unless it is this process's own image before an
 * exec, which the image after it counts), so that grey-run still knows it ran under the hook.
 * One that used a GPU stays EXITED until its run collects it. */
static void slot_finish(struct grey_ledger *lg, struct grey_slot *s, bool counted_elsewhere)
{
    if (atomic_load(&s->flags) & GREY_SLOT_USED_GPU) {
        atomic_store(&s->state, GREY_SLOT_EXITED);
        return;
    }
    int k = run_of(s->run_id);
    if (!counted_elsewhere && k >= 0 &&
        atomic_load(&lg->header->run[k].nonce) == (s->run_id & ((1ull << 48) - 1)))
        atomic_fetch_add(&lg->header->run[k].processes, 1);
    atomic_store(&s->state, GREY_SLOT_FREE);
}

/* With slot i's lock held and its owner gone: returns its bytes and finishes it (slot_finish), or
 * frees it (a claim that never finished). Only the lock holder changes a slot's state, so what
 * is checked here holds until it acts. own_exec: the slot is this process's before an exec. */
static bool retire_orphan(struct grey_ledger *lg, struct grey_slot *s, uint64_t *bytes, bool own_exec)
{
    switch (grey_slot_state(s)) {
    case GREY_SLOT_CLAIMING: /* its claimer died half-way: the slot never had an owner */
        *bytes = slot_return_bytes(lg->header, s);
        atomic_store(&s->state, GREY_SLOT_FREE);
        return true;
    case GREY_SLOT_ACTIVE:
        atomic_store(&s->state, GREY_SLOT_RETIRING);
        /* fall through */
    case GREY_SLOT_RETIRING: /* its retirer died half-way */
        *bytes = slot_return_bytes(lg->header, s);
        slot_finish(lg, s, own_exec);
        return true;
    case GREY_SLOT_EXITED: /* a straggler thread's bytes, its process gone now */
        if (!slot_has_bytes(s))
            return false;
        *bytes = slot_return_bytes(lg->header, s);
        return true;
    default:
        return false;
    }
}

bool grey_slot_retire(struct grey_ledger *lg, struct grey_slot *slot)
{
    if (!lg || !lg->header)
        return false;
    pthread_mutex_lock(&local);
    bool done = false;
    if (grey_slot_state(slot) == GREY_SLOT_ACTIVE && (int32_t)grey_slot_index(lg, slot) == lg->own) {
        atomic_store(&slot->state, GREY_SLOT_RETIRING);
        slot_return_bytes(lg->header, slot);
        slot_finish(lg, slot, false);
        done = true;
    }
    pthread_mutex_unlock(&local);
    return done;
}

/* Whether a reclaim should look at s: a state a dead owner (or claimer, or retirer) leaves. */
static bool slot_may_be_orphaned(const struct grey_slot *s)
{
    switch (grey_slot_state(s)) {
    case GREY_SLOT_ACTIVE:
    case GREY_SLOT_CLAIMING:
    case GREY_SLOT_RETIRING:
        return true;
    case GREY_SLOT_EXITED:
        return slot_has_bytes(s);
    default:
        return false;
    }
}

/* Retires slot i if its owner is dead; true when this call did it. Call with `local` held.
 * own_exec: slot i is this process's own before an exec. */
static bool reclaim_one(struct grey_ledger *lg, uint32_t i, bool own_exec)
{
    struct grey_slot *s = &lg->slots[i];
    if ((int32_t)i == lg->own || !slot_may_be_orphaned(s) || !lock_take(lg, slot_offset(i)))
        return false;
    uint64_t bytes = 0;
    bool done = retire_orphan(lg, s, &bytes, own_exec);
    lock_drop(lg, slot_offset(i));
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

static unsigned reclaim_locked(struct grey_ledger *lg)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < lg->nslots; i++)
        n += reclaim_one(lg, i, false);
    return_orphaned(lg);
    return n;
}

unsigned grey_ledger_reclaim(struct grey_ledger *lg)
{
    if (!lg->header || !lg->writable)
        return 0;
    pthread_mutex_lock(&local);
    unsigned n = reclaim_locked(lg);
    pthread_mutex_unlock(&local);
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
    uint32_t i = grey_slot_index(lg, slot);
    pthread_mutex_lock(&local);
    if ((int32_t)i != lg->own && lock_take(lg, slot_offset(i))) {
        uint64_t bytes = 0;
        /* grey-run counted it already, from the slot */
        if (retire_orphan(lg, slot, &bytes, true)) {
            atomic_fetch_add(&lg->header->reclaimed_slots, 1);
            atomic_fetch_add(&lg->header->reclaimed_bytes, bytes);
        }
        uint32_t expected = GREY_SLOT_EXITED;
        atomic_compare_exchange_strong(&slot->state, &expected, GREY_SLOT_FREE);
        lock_drop(lg, slot_offset(i));
    }
    pthread_mutex_unlock(&local);
}

unsigned grey_ledger_live_slots(struct grey_ledger *lg)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < lg->nslots; i++)
        if ((int32_t)i != lg->own && grey_slot_state(&lg->slots[i]) == GREY_SLOT_ACTIVE && !grey_ledger_slot_dead(lg, i))
            n++;
    return n;
}

/* ---------------------------------------------------------------- claiming */

/* Owner fields are plain (written by the claimer with the lock held) but are read by others
 * without it: relaxed atomic accesses make that a defined (if stale) read. */
#define OWNER_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define OWNER_STORE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

/* Fills a slot this claimer holds (CLAIMING, lock held). Bytes a previous owner left counted go
 * back first. */
static void slot_fill(struct grey_ledger_header *h, struct grey_slot *s, pid_t pid, uint64_t start_time,
                      uint64_t pidns, uint64_t run_id, uint32_t uid, const char *command)
{
    slot_return_bytes(h, s);
    OWNER_STORE(s->pid, pid);
    OWNER_STORE(s->uid, uid);
    OWNER_STORE(s->start_time, start_time);
    OWNER_STORE(s->pidns, pidns);
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

/* Takes slot i for a claim when it is in state expected: its lock first (nobody alive holds the
 * slot then), then the state. */
static bool slot_take(struct grey_ledger *lg, uint32_t i, uint32_t expected)
{
    if (grey_slot_state(&lg->slots[i]) != expected || !lock_take(lg, slot_offset(i)))
        return false;
    if (atomic_compare_exchange_strong(&lg->slots[i].state, &expected, GREY_SLOT_CLAIMING))
        return true;
    lock_drop(lg, slot_offset(i));
    return false;
}

/* An EXITED slot nobody will collect: no grey-run, or its grey-run is gone. */
static bool slot_recyclable(const struct grey_ledger *lg, const struct grey_slot *s)
{
    uint64_t run = OWNER_LOAD(s->run_id);
    return grey_slot_state(s) == GREY_SLOT_EXITED && (run == 0 || grey_ledger_run_dead(lg, run));
}

/* Finds a slot this claimer may take and takes it (state CLAIMING, lock held), or -1. */
static int slot_find_and_take(struct grey_ledger *lg)
{
    for (uint32_t i = 0; i < lg->nslots; i++)
        if (slot_take(lg, i, GREY_SLOT_FREE))
            return (int)i;
    /* Full: dead owners' slots give their bytes back and become EXITED, then recyclable. */
    reclaim_locked(lg);
    for (uint32_t i = 0; i < lg->nslots; i++) {
        if (slot_recyclable(lg, &lg->slots[i]) && slot_take(lg, i, GREY_SLOT_EXITED))
            return (int)i;
        if (slot_take(lg, i, GREY_SLOT_FREE))
            return (int)i;
    }
    return -1;
}

struct grey_slot *grey_ledger_claim(struct grey_ledger *lg, pid_t pid, uint64_t start_time, uint64_t pidns,
                                    uint64_t run_id, uint32_t uid, const char *command)
{
    if (!lg->header || lg->fd < 0 || !lg->writable)
        return NULL;
    pthread_mutex_lock(&local);
    /* Our own image before an exec never ran its destructor; its description closed with the
     * exec, so its slot's lock is free, and its driver state died with it: its bytes go back. */
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        if (grey_slot_state(s) == GREY_SLOT_ACTIVE && OWNER_LOAD(s->pid) == pid &&
            OWNER_LOAD(s->start_time) == start_time && OWNER_LOAD(s->pidns) == pidns)
            reclaim_one(lg, i, true);
    }
    int i = slot_find_and_take(lg);
    struct grey_slot *s = NULL;
    if (i >= 0) {
        s = &lg->slots[i];
        slot_fill(lg->header, s, pid, start_time, pidns, run_id, uid, command);
        atomic_store(&s->state, GREY_SLOT_ACTIVE);
        lg->own = i; /* the lock stays: it is the slot's liveness from now on */
    }
    pthread_mutex_unlock(&local);
    return s;
}

/* ---------------------------------------------------------------- GPU rows */

int grey_ledger_gpu_claim(struct grey_ledger *lg, const struct grey_gpu_id *id)
{
    if (!lg->header || !lg->writable)
        return lg->header ? grey_gpu_row_find(lg->header->gpu, GREY_MAX_DEVICES, id->uuid) : -1;
    pthread_mutex_lock(&local);
    int r = grey_gpu_row(lg->header->gpu, GREY_MAX_DEVICES, id, lg->fd, gpu_row_offset);
    pthread_mutex_unlock(&local);
    return r;
}
