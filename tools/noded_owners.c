/* The slots' owners, as grey-noded finds and publishes them (see noded_owners.h). */
#include "noded_owners.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "noded_identity.h"
#include "noded_log.h"
#include "policy/errmsg.h"
#include "policy/pacer.h"
#include "policy/plan_gpus.h"
#include "policy/procinfo.h"
#include "policy/weights.h"

/* A look through every process (for a slot whose pid does not lead to its lock's holder: a
 * process in another PID namespace, or a pid someone rewrote) costs a stat per open descriptor on
 * the node, so it is done at most this often; such a slot counts as weight 1 until then. */
#define SCAN_INTERVAL_MS 1000

enum seen_state { SEEN_NONE, SEEN_PENDING, SEEN_KNOWN, SEEN_HIDDEN };

struct noded_owner_seen {
    enum seen_state state;
    int32_t pid;           /* the slot's pid and start time when it was last looked at */
    uint64_t start_time;
    pid_t holder;          /* KNOWN: the lock's holder, in the service's PID namespace */
    int fdinfo;            /* KNOWN: its /proc/HOLDER/fdinfo/N, kept open (-1: none), so that a
                            * read fails once that process is gone, whoever gets its pid next */
    uid_t uid;
    gid_t gid;
    char user[GREY_PRINCIPAL_NAME_MAX];
    uint32_t ceiling[GREY_MAX_DEVICES];
    grey_devmask reported; /* rows whose weight over the ceiling was logged */
    bool hidden_said;
};

/* ------------------------------------------------------------------ what the kernel says */

/* The whole text of an fdinfo file from its start (each read from 0 shows it as it is now). */
static bool read_text(int fd, char *buf, size_t len)
{
    size_t got = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + got, len - 1 - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0 || (got += (size_t)n) == len - 1)
            break;
    }
    buf[got] = '\0';
    return got > 0;
}

static int slot_of_offset(long long off)
{
    long long base = (long long)grey_ledger_slot_lock_offset(0), size = (long long)sizeof(struct grey_slot);
    if (off < base || (off - base) % size)
        return -1;
    long long i = (off - base) / size;
    return i < GREY_LEDGER_SLOTS ? (int)i : -1;
}

/* Calls found(i) for every slot whose lock the fdinfo text shows held on the ledger's file. The
 * kernel writes each lock as "lock:\t1: OFDLCK ADVISORY  WRITE -1 00:01:8087 5000 5000" (the pid
 * is -1 for a lock of an open file description: /proc/locks cannot say whose it is, fdinfo can). */
static unsigned slot_locks(const struct noded_owners *o, const char *text, bool *found)
{
    unsigned n = 0;
    for (const char *p = strstr(text, "\nlock:"); p; p = strstr(p + 1, "\nlock:")) {
        char kind[16], end[24];
        unsigned maj, min;
        unsigned long long ino;
        long long start;
        if (sscanf(p + 6, " %*d: %15s %*s %*s %*d %x:%x:%llu %lld %23s", kind, &maj, &min, &ino, &start, end) != 6)
            continue;
        if (strcmp(kind, "OFDLCK") != 0 || maj != major(o->dev) || min != minor(o->dev) ||
            ino != (unsigned long long)o->ino || strtoll(end, NULL, 10) != start)
            continue;
        int i = slot_of_offset(start);
        if (i >= 0) {
            found[i] = true;
            n++;
        }
    }
    return n;
}

/* Whether the fdinfo file open at info shows the ledger's file holding slot i's lock now. */
static bool fdinfo_holds(const struct noded_owners *o, int info, uint32_t i)
{
    static char text[16384];
    static bool found[GREY_LEDGER_SLOTS];
    if (info < 0 || !read_text(info, text, sizeof text))
        return false;
    char want[48];
    snprintf(want, sizeof want, "\nino:\t%llu\n", (unsigned long long)o->ino);
    if (!strstr(text, want))
        return false; /* that descriptor number is another file now */
    memset(found, 0, sizeof found);
    slot_locks(o, text, found);
    return found[i];
}

static int open_fdinfo(pid_t pid, const char *fd)
{
    char path[80];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%s", (int)pid, fd);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Calls each(o, pid, fd name, arg) for every descriptor of pid open on the ledger's file; stops
 * when it returns true. */
static bool each_ledger_fd(const struct noded_owners *o, pid_t pid,
                           bool (*each)(const struct noded_owners *, pid_t, const char *, void *), void *arg)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool done = false;
    struct dirent *e;
    while (!done && (e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && st.st_ino == o->ino && st.st_dev == o->dev)
            done = each(o, pid, e->d_name, arg);
    }
    closedir(d);
    return done;
}

struct holds_arg {
    uint32_t slot;
    int info;
};

static bool holds_through(const struct noded_owners *o, pid_t pid, const char *fd, void *arg)
{
    struct holds_arg *h = arg;
    int info = open_fdinfo(pid, fd);
    if (info >= 0 && fdinfo_holds(o, info, h->slot)) {
        h->info = info;
        return true;
    }
    if (info >= 0)
        close(info);
    return false;
}

/* ------------------------------------------------------------------ the table */

static void ceilings_of(const struct noded_owners *o, const struct grey_identity *id, uint32_t out[GREY_MAX_DEVICES])
{
    /* A row the service did not make (no NVML, or a GPU NVML does not list) is named only by
     * the writable GPU table, so it could be any GPU: it gets the most this owner has on any. */
    uint32_t most = 0;
    for (int d = 0; d < GREY_MAX_DEVICES && most != GREY_WEIGHT_MAX; d++) {
        uint32_t w = grey_plan_weight(&o->admin, id, d);
        most = !w ? GREY_WEIGHT_MAX : w > most ? w : most;
    }
    for (int r = 0; r < GREY_MAX_DEVICES; r++) {
        uint32_t w = grey_plan_weight(&o->rows, id, r);
        out[r] = !(o->nl->rows & GREY_DEVBIT(r)) ? most : w ? w : GREY_WEIGHT_MAX;
    }
}

static void publish(struct noded_owners *o, uint32_t i)
{
    const struct noded_owner_seen *s = &o->seen[i];
    struct grey_node_owner_fields f = {
        .state = s->state == SEEN_KNOWN ? GREY_OWNER_KNOWN : s->state == SEEN_HIDDEN ? GREY_OWNER_HIDDEN : GREY_OWNER_NONE,
        .pid = s->pid,
        .start_time = s->start_time,
        .host_pid = s->state == SEEN_KNOWN ? s->holder : 0,
        .uid = s->state == SEEN_KNOWN ? (uint32_t)s->uid : 0,
    };
    if (s->state == SEEN_KNOWN)
        memcpy(f.ceiling, s->ceiling, sizeof f.ceiling);
    grey_node_owners_publish(o->table, i, &f);
}

static void forget(struct noded_owner_seen *s)
{
    if (s->fdinfo >= 0)
        close(s->fdinfo);
    *s = (struct noded_owner_seen){.state = SEEN_NONE, .fdinfo = -1};
}

/* Slot i's owner is holder, whose fdinfo file is open at info (taken over). */
static void establish(struct noded_owners *o, uint32_t i, pid_t holder, int info)
{
    struct noded_owner_seen *s = &o->seen[i];
    uid_t uid;
    gid_t gid;
    if (grey_proc_ids(holder, &uid, &gid) != 0) {
        close(info); /* gone meanwhile: looked at again next time */
        return;
    }
    struct grey_identity id;
    noded_identity_of(uid, gid, &id);
    s->state = SEEN_KNOWN;
    s->holder = holder;
    s->fdinfo = info;
    s->uid = uid;
    s->gid = gid;
    snprintf(s->user, sizeof s->user, "%s", id.user[0] ? id.user : "?");
    ceilings_of(o, &id, s->ceiling);
    s->reported = 0;
    publish(o, i);
}

int noded_owners_create(struct noded_owners *o, const struct noded_ledger *nl, const struct grey_plan *admin,
                        char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->nl = nl;
    if (admin)
        o->admin = *admin;
    grey_devmask foreign;
    grey_plan_for_rows(&o->admin, nl->row_gpu, nl->rows, NULL, NULL, &o->rows, &foreign);
    struct stat st;
    if (fstat(nl->lg.fd, &st) != 0)
        return grey_error(err, errlen, "grey-node-ledger: cannot stat it: %s", strerror(errno));
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    o->seen = calloc(GREY_LEDGER_SLOTS, sizeof *o->seen);
    if (!o->seen)
        return grey_error(err, errlen, "grey-node-owners: out of memory");
    for (int i = 0; i < GREY_LEDGER_SLOTS; i++)
        forget(&o->seen[i]);
    size_t size = sizeof *o->table;
    int fd = noded_memfd_new("grey-node-owners", size, err, errlen);
    if (fd < 0)
        return -1;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return grey_error(err, errlen, "grey-node-owners: cannot map it: %s", strerror(e));
    }
    grey_node_owners_init(p);
    /* The mapping is made first: F_SEAL_FUTURE_WRITE leaves it writable and forbids any other. */
    if (noded_memfd_seal(fd, grey_node_owners_seals(), "grey-node-owners", err, errlen) != 0) {
        munmap(p, size);
        close(fd);
        return -1;
    }
    o->table = p;
    o->fd = fd;
    return 0;
}

/* ------------------------------------------------------------------ looking for owners */

struct found {
    pid_t pid;
    char fd[16];
    uid_t uid;
    unsigned n;
    bool several_users;
};

static bool note_locks(const struct noded_owners *o, pid_t pid, const char *fd, void *arg)
{
    struct found *f = arg;
    static char text[16384];
    static bool held[GREY_LEDGER_SLOTS];
    int info = open_fdinfo(pid, fd);
    bool ok = info >= 0 && read_text(info, text, sizeof text);
    if (info >= 0)
        close(info);
    uid_t uid;
    gid_t gid;
    memset(held, 0, sizeof held);
    if (!ok || !slot_locks(o, text, held) || grey_proc_ids(pid, &uid, &gid) != 0)
        return false;
    for (int i = 0; i < GREY_LEDGER_SLOTS; i++) {
        if (!held[i])
            continue;
        if (!f[i].n) {
            f[i].pid = pid;
            snprintf(f[i].fd, sizeof f[i].fd, "%s", fd);
            f[i].uid = uid;
        } else if (f[i].uid != uid) {
            f[i].several_users = true; /* a description passed between users: nobody is vouched for */
        }
        f[i].n++;
    }
    return false;
}

/* Every process's descriptors of the ledger, for the slots whose own pid did not lead to their
 * holder. */
static void scan(struct noded_owners *o)
{
    struct found *f = calloc(GREY_LEDGER_SLOTS, sizeof *f);
    DIR *proc = opendir("/proc");
    if (!f || !proc) {
        free(f);
        if (proc)
            closedir(proc);
        return;
    }
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(proc)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        each_ledger_fd(o, (pid_t)pid, note_locks, f);
    }
    closedir(proc);
    for (uint32_t i = 0; i < GREY_LEDGER_SLOTS; i++) {
        struct noded_owner_seen *s = &o->seen[i];
        if (s->state != SEEN_PENDING && s->state != SEEN_HIDDEN)
            continue;
        if (f[i].n && !f[i].several_users) {
            int info = open_fdinfo(f[i].pid, f[i].fd);
            if (info >= 0 && fdinfo_holds(o, info, i)) {
                establish(o, i, f[i].pid, info);
                continue;
            }
            if (info >= 0)
                close(info);
        }
        if (grey_ledger_slot_dead(&o->nl->lg, i))
            continue; /* nobody holds it: the reclaim retires it */
        if (s->state != SEEN_HIDDEN) {
            s->state = SEEN_HIDDEN;
            publish(o, i);
        }
    }
    free(f);
}

void noded_owners_watch(struct noded_owners *o, int64_t now_ms)
{
    const struct grey_ledger *lg = &o->nl->lg;
    bool unknown = false;
    for (uint32_t i = 0; i < lg->nslots && i < GREY_LEDGER_SLOTS; i++) {
        struct grey_slot *slot = &lg->slots[i];
        struct noded_owner_seen *s = &o->seen[i];
        if (grey_slot_state(slot) != GREY_SLOT_ACTIVE) {
            if (s->state != SEEN_NONE) {
                forget(s);
                publish(o, i);
            }
            continue;
        }
        int32_t pid = __atomic_load_n(&slot->pid, __ATOMIC_RELAXED);
        uint64_t start = __atomic_load_n(&slot->start_time, __ATOMIC_RELAXED);
        if (s->state != SEEN_NONE && s->pid == pid && s->start_time == start) {
            unknown |= s->state == SEEN_PENDING || s->state == SEEN_HIDDEN;
            continue;
        }
        /* New, or its pid or start time changed: not vouched for until its holder is found. */
        forget(s);
        s->state = SEEN_PENDING;
        s->pid = pid;
        s->start_time = start;
        publish(o, i);
        struct holds_arg h = {.slot = i, .info = -1};
        if (pid > 0 && pid != getpid() && each_ledger_fd(o, pid, holds_through, &h))
            establish(o, i, pid, h.info);
        else
            unknown = true;
    }
    if (unknown && now_ms - o->last_scan_ms >= SCAN_INTERVAL_MS) {
        o->last_scan_ms = now_ms;
        scan(o);
    }
}

static void row_label(const struct noded_owners *o, int r, char *buf, size_t len)
{
    if (o->nl->rows & GREY_DEVBIT(r))
        grey_gpu_label(&o->nl->row_gpu[r], buf, len);
    else
        snprintf(buf, len, "ledger row %d", r);
}

/* Logs, once per row until it is right again, a slot publishing more than its owner may have. */
static void check_weights(struct noded_owners *o, uint32_t i)
{
    struct noded_owner_seen *s = &o->seen[i];
    struct grey_slot *slot = &o->nl->lg.slots[i];
    for (int r = 0; r < GREY_MAX_DEVICES; r++) {
        uint32_t w = atomic_load_explicit(&slot->fair[r].weight, memory_order_relaxed);
        grey_devmask bit = GREY_DEVBIT(r);
        if (w <= s->ceiling[r]) {
            s->reported &= ~bit;
            continue;
        }
        if (s->reported & bit)
            continue;
        s->reported |= bit;
        char label[96];
        row_label(o, r, label, sizeof label);
        noded_log("tampering: slot %u (pid %d, user %s) publishes weight %u on %s, over the admin's %u for that "
                  "user; every pacer uses %u (or the admin plan was raised since the service started)",
                  (unsigned)i, (int)s->holder, s->user, w, label, s->ceiling[r], s->ceiling[r]);
    }
}

void noded_owners_round(struct noded_owners *o)
{
    for (uint32_t i = 0; i < GREY_LEDGER_SLOTS && i < o->nl->lg.nslots; i++) {
        struct noded_owner_seen *s = &o->seen[i];
        if (s->state == SEEN_HIDDEN && !s->hidden_said) {
            s->hidden_said = true;
            noded_log("slot %u (pid %d, as it says) holds its lock through no descriptor any process shows, or "
                      "through one that processes of several users hold: every pacer counts its weight as %u",
                      (unsigned)i, (int)s->pid, GREY_NODE_UNVOUCHED_WEIGHT);
        }
        if (s->state != SEEN_KNOWN)
            continue;
        uid_t uid;
        gid_t gid;
        if (!fdinfo_holds(o, s->fdinfo, i) || grey_proc_ids(s->holder, &uid, &gid) != 0) {
            forget(s); /* its holder let go, or is gone: the next watch looks again */
            publish(o, i);
            continue;
        }
        if (uid != s->uid || gid != s->gid) {
            int info = s->fdinfo;
            s->fdinfo = -1;
            establish(o, i, s->holder, info); /* it changed users: its ceilings are the new one's */
        }
        check_weights(o, i);
    }
}
