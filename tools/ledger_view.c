/* Reading the ledger for the tools (see ledger_view.h). */
#include "ledger_view.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger_source.h"
#include "policy/errmsg.h"
#include "policy/node_client.h"
#include "policy/node_owners.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* The command as written, cut at its field and made printable: a slot is written by a foreign
 * process and read by terminals and by Prometheus. */
static void copy_command(char *dst, const char *src)
{
    size_t i = 0;
    for (; i < GREY_COMMAND_MAX && src[i]; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    dst[i] = '\0';
}

/* owners: grey-noded's (NULL without it), so that the weight shown is the one every pacer uses
 * for slot i. */
static void add_process(struct grey_view *v, const struct grey_slot *s, uint32_t i, uint64_t my_pidns,
                        const struct grey_node_owners *owners)
{
    struct grey_view_process *p = &v->proc[v->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = s->pid;
    p->other_pidns = my_pidns && s->pidns && s->pidns != my_pidns;
    p->uid = s->uid;
    p->run_id = s->run_id;
    p->batch_job_id = LOAD(((struct grey_slot *)s)->batch_job_id);
    copy_command(p->command, s->command);
    p->launches = LOAD(((struct grey_slot *)s)->launches);
    grey_devmask bits = LOAD(((struct grey_slot *)s)->devices_used);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        struct grey_slot_device *c = &((struct grey_slot *)s)->dev[d];
        struct grey_view_device *o = &p->dev[d];
        o->used = LOAD(c->used);
        o->peak = LOAD(c->peak);
        o->cap = LOAD(c->cap);
        o->allocs = LOAD(c->allocs);
        o->frees = LOAD(c->frees);
        o->denied = LOAD(c->denied);
        o->largest_denied = LOAD(c->largest_denied);
        if (o->used || o->peak || o->denied)
            bits |= GREY_DEVBIT(d);
    }
    bits |= grey_fair_view_read(p, s); /* devices that saw launches show too (fair_view.h) */
    for (int d = 0; owners && d < GREY_MAX_DEVICES; d++)
        p->fair[d].weight = grey_node_owners_weight(owners, i, s->pid, s->start_time, d, p->fair[d].weight);
    p->devices = bits;
    v->devices |= bits;
}

static int view_of_image(const void *base, size_t size, grey_view_alive_fn alive, void *arg, uint64_t my_pidns,
                         const struct grey_node_owners *owners, struct grey_view *out, char *err, size_t errlen)
{
    char why[256];
    if (grey_ledger_validate(base, size, why, sizeof why) != 0)
        return grey_error(err, errlen, "%s", why);
    const struct grey_ledger_header *h = base;
    const struct grey_slot *slots = (const struct grey_slot *)((const char *)base + sizeof *h);
    memset(out, 0, sizeof *out);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        const struct grey_ledger_gpu *row = &h->gpu[d];
        if (LOAD(((struct grey_ledger_gpu *)row)->state) == GREY_GPU_ROW_READY) {
            grey_gpu_row_id(row, &out->gpu[d]);
            out->gpus |= GREY_DEVBIT(d);
        }
        if (LOAD(((struct grey_ledger_header *)h)->fair[d].contended))
            out->contended |= GREY_DEVBIT(d);
        out->handoffs[d] = LOAD(((struct grey_ledger_header *)h)->fair[d].handoffs);
        out->thermal[d] = LOAD(((struct grey_ledger_header *)h)->fair[d].thermal);
        out->budget[d] = LOAD(((struct grey_ledger_header *)h)->device_budget[d]);
        out->used[d] = LOAD(((struct grey_ledger_header *)h)->device_used[d]);
        if (out->budget[d] != UINT64_MAX || out->used[d])
            out->devices |= GREY_DEVBIT(d);
    }
    out->budget_admin = LOAD(((struct grey_ledger_header *)h)->budget_admin);
    out->reclaimed_slots = LOAD(((struct grey_ledger_header *)h)->reclaimed_slots);
    out->reclaimed_bytes = LOAD(((struct grey_ledger_header *)h)->reclaimed_bytes);
    out->orphaned_bytes = LOAD(((struct grey_ledger_header *)h)->orphaned_bytes);
    /* nslots was validated equal to GREY_LEDGER_SLOTS, the size of proc[]. */
    for (uint32_t i = 0; i < h->nslots && i < GREY_LEDGER_SLOTS; i++) {
        const struct grey_slot *s = &slots[i];
        uint32_t st = LOAD(((struct grey_slot *)s)->state);
        if (st != GREY_SLOT_ACTIVE && st != GREY_SLOT_RETIRING)
            continue;
        if (alive && !alive(i, arg)) {
            out->stale++;
            for (int d = 0; d < GREY_MAX_DEVICES; d++)
                out->stale_bytes += LOAD(((struct grey_slot *)s)->dev[d].used);
            continue;
        }
        add_process(out, s, i, my_pidns, owners);
    }
    return 0;
}

int grey_view_from_image(const void *base, size_t size, grey_view_alive_fn alive, void *arg, uint64_t my_pidns,
                         struct grey_view *out, char *err, size_t errlen)
{
    return view_of_image(base, size, alive, arg, my_pidns, NULL, out, err, errlen);
}

static bool slot_alive(uint32_t i, void *arg) { return !grey_ledger_slot_dead(arg, i); }

static uint64_t my_pid_namespace(void)
{
    char link[64];
    ssize_t n = readlink("/proc/self/ns/pid", link, sizeof link - 1);
    unsigned long long ino = 0;
    if (n > 0) {
        link[n] = '\0';
        sscanf(link, "pid:[%llu]", &ino);
    }
    return ino;
}

/* Retiring dead processes touches the shared mapping; a file truncated meanwhile would raise
 * SIGBUS there, which becomes an error instead of a crash. */
static sigjmp_buf bus_env;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
    if (bus_armed)
        siglongjmp(bus_env, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int reclaim_dead(struct grey_ledger *lg, const char *path, char *err, size_t errlen)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &old);
    volatile int rc = 0;
    if (sigsetjmp(bus_env, 1) == 0) {
        bus_armed = 1;
        grey_ledger_reclaim(lg); /* nothing when it is not writable to us */
    } else {
        rc = grey_error(err, errlen, "ledger %s: the file shrank while it was being read", path);
    }
    bus_armed = 0;
    sigaction(SIGBUS, &old, NULL);
    return rc;
}

/* The view of the ledger open at lg, from a private copy read with pread: what is shown was
 * checked as a whole, and a file truncated meanwhile is a short read, not a fault. */
static int view_of_ledger(const struct grey_ledger *lg, const struct grey_node_owners *owners, struct grey_view *out,
                          char *why, size_t whylen)
{
    size_t want = GREY_LEDGER_TOTAL_SIZE;
    uint64_t *buf = malloc(GREY_LEDGER_TOTAL_SIZE + 8); /* uint64_t: aligned for the atomics */
    if (!buf)
        return grey_error(why, whylen, "out of memory");
    size_t have = 0;
    while (have < want) {
        ssize_t n = pread(lg->fd, (char *)buf + have, want - have, (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shorter than expected: validated as what we got */
        have += (size_t)n;
    }
    int rc = view_of_image(buf, have, slot_alive, (void *)lg, my_pid_namespace(), owners, out, why, whylen);
    free(buf);
    return rc;
}

/* grey-noded's ledger, asked for as the hook asks. The service retires dead slots itself; the
 * budgets shown are its sealed ones (the header's copy is writable by every member). */
static int load_service(const char *socket, const char *path, struct grey_view *out, char *err, size_t errlen)
{
    static struct grey_ledger lg;
    static struct grey_node_limits limits;
    const struct grey_node_owners *owners = NULL;
    char why[512];
    if (grey_node_ledger_open(socket, LEDGER_SERVICE_TIMEOUT_MS, &lg, &limits, &owners, why, sizeof why) != 0)
        return grey_error(err, errlen, "ledger %s: %s", path, why);
    int rc = view_of_ledger(&lg, owners, out, why, sizeof why);
    munmap((void *)owners, sizeof *owners);
    grey_ledger_close(&lg);
    if (rc != 0)
        return grey_error(err, errlen, "ledger %s: %s", path, why);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        int k = (out->gpus & GREY_DEVBIT(d)) ? grey_node_limits_find(&limits, out->gpu[d].uuid) : -1;
        if (k < 0)
            continue;
        out->budget[d] = limits.row[k].budget;
        if (limits.row[k].budget != UINT64_MAX)
            out->budget_admin |= GREY_DEVBIT(d);
    }
    return 0;
}

int grey_view_load(const char *path, bool reclaim, struct grey_view *out, char *err, size_t errlen)
{
    const char *socket = ledger_source_socket(path);
    if (socket)
        return load_service(socket, path, out, err, errlen);
    /* The ledger stays open while the view is made: its locks say who is alive. */
    static struct grey_ledger lg; /* static: still valid after a siglongjmp */
    char why[512];
    if (grey_ledger_open(path, false, &lg, why, sizeof why) != 0)
        return grey_error(err, errlen, "%s", why);
    if (reclaim && reclaim_dead(&lg, path, err, errlen) != 0) {
        grey_ledger_close(&lg);
        return -1;
    }
    int rc = view_of_ledger(&lg, NULL, out, why, sizeof why);
    grey_ledger_close(&lg);
    if (rc != 0)
        return grey_error(err, errlen, "ledger %s: %s", path, why);
    return 0;
}

const char *grey_view_gpu_label(const struct grey_view *v, int d, char *buf, size_t len)
{
    if (d < 0 || d >= GREY_MAX_DEVICES || !(v->gpus & GREY_DEVBIT(d))) {
        snprintf(buf, len, "row %d", d);
        return buf;
    }
    return grey_gpu_label(&v->gpu[d], buf, len);
}

void grey_view_name_users(struct grey_view *v)
{
    for (unsigned i = 0; i < v->nprocs; i++) {
        struct grey_view_process *p = &v->proc[i];
        char buf[4096];
        struct passwd pw, *res = NULL;
        if (getpwuid_r((uid_t)p->uid, &pw, buf, sizeof buf, &res) == 0 && res && strlen(res->pw_name) < sizeof p->user)
            snprintf(p->user, sizeof p->user, "%s", res->pw_name);
        else
            snprintf(p->user, sizeof p->user, "%u", (unsigned)p->uid);
    }
}
