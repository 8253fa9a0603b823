/* VMM memory shared through file descriptors, counted once for the node (vmm_share.h). Two small
 * arrays under the VMM lock: a process exports and imports a handful of allocations, and every
 * export or import costs the driver far more than a search of them. */
#include "vmm_share.h"

#include "admission.h"
#include "core/log.h"
#include "policy/array_room.h"
#include "vmm_table.h"
#include "policy/tracker.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* grey's region of lock offsets, far past any real file's bytes, and each allocation's range. */
#define REGION_START (1ull << 60)
#define RANGE_SHIFT 16
#define RANGE_SLOTS (1ull << 36) /* ranges in the region */
#define MAX_EXPORTS (1u << (RANGE_SHIFT - 1))
/* Probes an importer may spend finding its lock among everyone's (two per lock it meets). */
#define MAX_PROBES 4096

/* The files exported descriptors are opens of (on a real driver one: /dev/nvidiactl), each with
 * two descriptions of this process's own: one that never holds a lock, to ask through, and one
 * that holds this process's imports. Two, so that a process that imports what it exported itself
 * still sees its own hold when it asks. */
struct share_file {
    dev_t dev;
    ino_t ino;
    int probe_fd;
    int hold_fd;   /* -1 until the first import */
    unsigned users; /* exports and holds that name it */
};

struct share_export {
    uint64_t key;                 /* the creator's handle key; not searched while lingering */
    uint64_t base;                /* first lock offset of its range */
    uint32_t exports;             /* descriptors locked so far: bytes base, base + 2, ... */
    bool lingering;               /* the creator let go; info holds the bytes still counted */
    dev_t dev;                    /* its file */
    ino_t ino;
    struct grey_buffer_info info;
};

struct share_hold {
    uint64_t key; /* the importer's handle key */
    dev_t dev;    /* the file, and the offset of the read lock its hold_fd holds for it */
    ino_t ino;
    uint64_t at;
};

static struct share_file *files;
static size_t file_count, file_cap;
static struct share_export *exports;
static size_t export_count, export_cap;
static struct share_hold *holds;
static size_t hold_count, hold_cap;
static uint64_t *unpaid; /* imports nobody else is known to count: this process pays at the map */
static size_t unpaid_count, unpaid_cap;
_Atomic size_t grey_vmm_share_lingering; /* read without the lock by grey_vmm_share_settle */

static void let_go(uint64_t key);

/* A new open file description of what fd refers to (for /dev/nvidiactl, another open of it). */
static int reopen(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
}

static struct share_file *file_find(dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < file_count; i++)
        if (files[i].dev == dev && files[i].ino == ino)
            return &files[i];
    return NULL;
}

/* The file descriptor fd is an open of, with one more user; NULL when it cannot be followed. */
static struct share_file *file_use(int fd, bool hold)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return NULL;
    struct share_file *f = file_find(st.st_dev, st.st_ino);
    if (!f) {
        int probe = grey_array_room((void **)&files, file_count, &file_cap, sizeof *files) ? reopen(fd) : -1;
        if (probe < 0)
            return NULL;
        f = &files[file_count++];
        *f = (struct share_file){.dev = st.st_dev, .ino = st.st_ino, .probe_fd = probe, .hold_fd = -1};
    }
    if (hold && f->hold_fd < 0 && (f->hold_fd = reopen(fd)) < 0) {
        if (!f->users) {
            close(f->probe_fd);
            *f = files[--file_count];
        }
        return NULL;
    }
    f->users++;
    return f;
}

static void file_unuse(dev_t dev, ino_t ino)
{
    struct share_file *f = file_find(dev, ino);
    if (!f || --f->users)
        return;
    close(f->probe_fd);
    if (f->hold_fd >= 0)
        close(f->hold_fd); /* the kernel drops its locks with it */
    *f = files[--file_count];
}

/* Whether another description holds a lock in [start, start + len), asked through fd: 1 (the
 * first found in *out), 0 (none), -1 (the question cannot be asked). */
static int lock_test(int fd, uint64_t start, uint64_t len, struct flock *out)
{
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)start, .l_len = (off_t)len};
    if (fcntl(fd, F_OFD_GETLK, &l) != 0)
        return -1;
    if (l.l_type == F_UNLCK)
        return 0;
    if (out)
        *out = l;
    return 1;
}

static int read_lock(int fd, uint64_t at)
{
    struct flock l = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = (off_t)at, .l_len = 1};
    return fcntl(fd, F_OFD_SETLK, &l);
}

static uint64_t random_base(void)
{
    uint64_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        r = (uint64_t)t.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 32 ^ (uint64_t)t.tv_sec;
    }
    return REGION_START + ((r % RANGE_SLOTS) << RANGE_SHIFT);
}

static struct share_export *export_of(uint64_t key)
{
    for (size_t i = 0; i < export_count; i++)
        if (exports[i].key == key && !exports[i].lingering)
            return &exports[i];
    return NULL;
}

static void export_drop(struct share_export *e)
{
    if (e->lingering)
        atomic_fetch_sub(&grey_vmm_share_lingering, 1);
    file_unuse(e->dev, e->ino);
    *e = exports[--export_count];
}

void grey_vmm_share_exported(uint64_t key, int fd)
{
    static bool told;
    struct share_export *e = export_of(key);
    if (!e) {
        struct share_file *f = grey_array_room((void **)&exports, export_count, &export_cap, sizeof *exports)
                                   ? file_use(fd, false) : NULL;
        if (!f) {
            if (!told)
                grey_log("cannot follow an exported VMM allocation (no /proc/self/fd or no memory): its bytes "
                         "go back when this process lets go of it, whoever else holds it");
            told = true;
            return;
        }
        e = &exports[export_count++];
        *e = (struct share_export){.key = key, .base = random_base(), .dev = f->dev, .ino = f->ino};
    }
    if (e->exports >= MAX_EXPORTS || read_lock(fd, e->base + 2ull * e->exports) != 0)
        return; /* this descriptor alone does not keep it counted */
    e->exports++;
}

/* Whether any exported descriptor is still open, or any importer holds the memory. */
static bool held_elsewhere(const struct share_export *e)
{
    const struct share_file *f = file_find(e->dev, e->ino);
    return f && e->exports && lock_test(f->probe_fd, e->base, 2ull * e->exports, NULL) != 0;
}

bool grey_vmm_share_freed(uint64_t key, bool tracked, const struct grey_buffer_info *info)
{
    let_go(key);
    grey_vmm_share_paid(key);
    struct share_export *e = export_of(key);
    if (!e)
        return false;
    if (!tracked || !held_elsewhere(e)) {
        export_drop(e);
        return false;
    }
    e->lingering = true; /* the driver may hand the same handle value out again meanwhile */
    e->info = *info;
    atomic_fetch_add(&grey_vmm_share_lingering, 1);
    return true;
}

void grey_vmm_share_settle_slow(void)
{
    /* Never wait behind a VMM call of another thread (the driver's own work runs under the lock):
     * whoever holds it settles at its next call, or the next allocation does. */
    if (!grey_vmm_trylock())
        return;
    for (size_t i = 0; i < export_count;) {
        struct share_export *e = &exports[i];
        if (!e->lingering || held_elsewhere(e)) {
            i++;
            continue;
        }
        struct grey_buffer_info info = e->info;
        export_drop(e);
        grey_forget(true, &info, true);
    }
    grey_vmm_unlock();
}

/* The export lock fd's own description holds: its offset, or 0 when it holds none (or the probes
 * ran out). Searches [start, start + len) through probe (a description that holds nothing): each
 * lock met splits the range in two; the smaller side is searched by recursion, the larger by the
 * loop, so the depth stays below log2 of the locks met. */
static uint64_t find_own_lock(int fd, int probe, uint64_t start, uint64_t len, unsigned *probes)
{
    while (len) {
        struct flock l;
        if (++*probes > MAX_PROBES || lock_test(probe, start, len, &l) != 1)
            return 0;
        uint64_t at = (uint64_t)l.l_start, end = l.l_len > 0 ? at + (uint64_t)l.l_len : start + len;
        if (at < start)
            at = start;
        if (end > start + len || end <= at)
            end = start + len;
        /* An export's lock is one byte at an even offset; fd's own is the one fd cannot see. */
        for (uint64_t b = at + (at & 1); b < end && b - at < 4; b += 2) {
            *probes += 2;
            if (lock_test(fd, b, 1, NULL) == 0 && lock_test(probe, b, 1, NULL) == 1)
                return b;
        }
        uint64_t left = at - start, right = start + len - end, found;
        if (left <= right) {
            if ((found = find_own_lock(fd, probe, start, left, probes)))
                return found;
            start = end;
            len = right;
        } else {
            if ((found = find_own_lock(fd, probe, end, right, probes)))
                return found;
            len = left;
        }
    }
    return 0;
}

static bool imported(uint64_t key, int fd)
{
    static bool told;
    struct share_file *f = grey_array_room((void **)&holds, hold_count, &hold_cap, sizeof *holds) ? file_use(fd, true) : NULL;
    if (!f)
        return false;
    unsigned probes = 0;
    uint64_t at = find_own_lock(fd, f->probe_fd, REGION_START, RANGE_SLOTS << RANGE_SHIFT, &probes);
    if (!at && probes > MAX_PROBES && !told) {
        grey_log("too many record locks on an imported VMM descriptor's file to find its creator's: "
                 "this process counts what it imported itself");
        told = true;
    }
    bool held = false; /* this process holds that byte already (an earlier import of the same) */
    for (size_t i = 0; at && i < hold_count && !held; i++)
        held = holds[i].dev == f->dev && holds[i].ino == f->ino && holds[i].at == at + 1;
    if (!at || (!held && read_lock(f->hold_fd, at + 1) != 0)) {
        file_unuse(f->dev, f->ino);
        return false;
    }
    holds[hold_count++] = (struct share_hold){.key = key, .dev = f->dev, .ino = f->ino, .at = at + 1};
    return true;
}

static bool holds_key(uint64_t key)
{
    for (size_t i = 0; i < hold_count; i++)
        if (holds[i].key == key)
            return true;
    return grey_vmm_share_is_unpaid(key);
}

static void mark_unpaid(uint64_t key)
{
    if (grey_array_room((void **)&unpaid, unpaid_count, &unpaid_cap, sizeof *unpaid))
        unpaid[unpaid_count++] = key;
}

void grey_vmm_share_import(uint64_t key, bool posix_fd, int fd)
{
    struct grey_buffer_info mine;
    /* The same handle again (this process made it, or imported it before): one more reference to
     * it, which keeps whatever counts it now. */
    if (tracker_find(key, &mine) || grey_vmm_known(key) || holds_key(key)) {
        if (!grey_vmm_referenced(key))
            grey_log("out of memory recording a VMM import: its bytes go back at its first release");
        return;
    }
    if (!posix_fd || !imported(key, fd))
        mark_unpaid(key);
}

bool grey_vmm_share_is_unpaid(uint64_t key)
{
    for (size_t i = 0; i < unpaid_count; i++)
        if (unpaid[i] == key)
            return true;
    return false;
}

void grey_vmm_share_paid(uint64_t key)
{
    for (size_t i = 0; i < unpaid_count;)
        if (unpaid[i] == key)
            unpaid[i] = unpaid[--unpaid_count];
        else
            i++;
}

static void let_go(uint64_t key)
{
    for (size_t i = 0; i < hold_count;) {
        struct share_hold h = holds[i];
        if (h.key != key) {
            i++;
            continue;
        }
        holds[i] = holds[--hold_count];
        bool still = false; /* another import of the same allocation still holds the byte */
        for (size_t j = 0; j < hold_count && !still; j++)
            still = holds[j].dev == h.dev && holds[j].ino == h.ino && holds[j].at == h.at;
        const struct share_file *f = file_find(h.dev, h.ino);
        if (!still && f) {
            struct flock l = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = (off_t)h.at, .l_len = 1};
            fcntl(f->hold_fd, F_OFD_SETLK, &l);
        }
        file_unuse(h.dev, h.ino);
    }
}

void grey_vmm_share_fork_child(void)
{
    for (size_t i = 0; i < file_count; i++) {
        close(files[i].probe_fd);
        if (files[i].hold_fd >= 0)
            close(files[i].hold_fd);
    }
    free(files);
    free(exports);
    free(holds);
    free(unpaid);
    files = NULL;
    exports = NULL;
    holds = NULL;
    unpaid = NULL;
    file_count = file_cap = export_count = export_cap = hold_count = hold_cap = unpaid_count = unpaid_cap = 0;
    atomic_store(&grey_vmm_share_lingering, 0);
}
