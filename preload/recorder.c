#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/modules.h"
#include "core/notify.h"
#include "core/process.h"
#include "core/settings.h"
#include "policy/history.h"
#include "policy/report_dir.h"
#include "policy/sites.h"
#include "policy/ticks.h"
#include "policy/tracker.h"
#include "shim/dedup.h"
#include "shim/track.h"
#include "agent.h"
#include "fp_publish.h"

_Atomic bool grey_recorder_started;
static bool atexit_registered;           /* inherited by fork children, whose exit runs it too */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
/* Serializes snapshots and writes: the agent, the exit handler and context teardowns. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool exited;

#define MAX_SNAPSHOTS 64
static struct grey_raw_snapshot snapshots[MAX_SNAPSHOTS];
static unsigned nsnapshots, live_seq;

/* Large, so static; used under lock only. */
static struct grey_module_map modmap;
static struct grey_buffer_info batch[256];
static struct grey_raw_writer writer;

bool grey_recorder_exited(void) { return atomic_load(&exited); }

/* ------------------------------------------------------------------ snapshots */

static void snapshot_locked(uint32_t source, uint64_t context)
{
    struct grey_raw_snapshot s = {.source = source};
    grey_dedup_snapshot(source, context, &s.buffers, &s.bytes, &s.failed);
    s.ns = grey_mono_ns();
    /* The first snapshots and the latest ones matter; in between, the oldest periodic ones go. */
    if (nsnapshots == MAX_SNAPSHOTS) {
        memmove(&snapshots[8], &snapshots[9], (MAX_SNAPSHOTS - 9) * sizeof snapshots[0]);
        nsnapshots--;
    }
    snapshots[nsnapshots++] = s;
    grey_fp_publish(); /* the node's table: what this snapshot fingerprinted */
    grey_log("snapshot (%s): %llu buffers, %llu bytes read back, %llu failed", grey_fp_source_name(source),
             (unsigned long long)s.buffers, (unsigned long long)s.bytes, (unsigned long long)s.failed);
}

void grey_recorder_snapshot(uint32_t source, uint64_t context)
{
    if (!grey_settings()->dedup)
        return;
    pthread_mutex_lock(&lock);
    if (!atomic_load(&exited) || source == GREY_FP_EXIT)
        snapshot_locked(source, context);
    pthread_mutex_unlock(&lock);
}

int grey_recorder_read(uint64_t addr, uint64_t offset, void *dst, size_t n)
{
    pthread_mutex_lock(&lock);
    int rc = atomic_load(&exited) ? -1 : grey_dedup_read_buffer(addr, offset, dst, n);
    pthread_mutex_unlock(&lock);
    return rc;
}

/* ------------------------------------------------------------------ writing */

struct write_ctx {
    struct grey_tick_ref a, b;
};

static void to_raw(const struct write_ctx *wc, const struct grey_buffer_info *info, bool live, uint64_t free_ticks,
                   struct grey_raw_buffer *out)
{
    memset(out, 0, sizeof *out);
    out->live = live;
    out->kind = grey_api_kind(info->api);
    snprintf(out->api, sizeof out->api, "%s", grey_api_name(info->api));
    /* Handles carry a tag in the top byte (cuda_shim.h); the record shows the handle itself. */
    out->addr = out->kind == GREY_RAW_PTR ? info->addr : info->addr & ((1ull << 56) - 1);
    out->bytes = info->bytes;
    out->device = info->device;
    out->site = info->site;
    out->touched = info->touched;
    out->alloc_ns = grey_ticks_to_ns(info->alloc_ticks, &wc->a, &wc->b);
    out->free_ns = live ? 0 : grey_ticks_to_ns(free_ticks, &wc->a, &wc->b);
    out->last_use_ns = grey_ticks_to_ns(info->last_use_ticks, &wc->a, &wc->b);
    out->has_fp = info->fp_source != GREY_FP_NONE;
    out->fp = info->fp;
    out->fp_source = info->fp_source;
    out->fp_ns = grey_ticks_to_ns(info->fp_ticks, &wc->a, &wc->b);
    out->fp_stale = info->fp_stale;
    if (grey_settings()->dedup) { /* uses are seen only then */
        const struct grey_buffer_use *u = &info->use;
        struct grey_raw_use *r = &out->use;
        out->has_use = true;
        r->alloc_launch = u->alloc_launch;
        r->free_launch = live ? atomic_load_explicit(&grey_dedup_launches, memory_order_relaxed)
                              : u->alloc_launch + u->free_delta;
        r->first_launch = u->alloc_launch + u->first_delta;
        r->last_launch = u->alloc_launch + u->last_delta;
        r->uses = u->uses;
        r->first_ns = u->uses ? grey_ticks_to_ns(u->first_ticks, &wc->a, &wc->b) : 0;
        r->gap_launches = u->gap_launches;
        if (u->gap_launches) { /* a duration: the ticks' length in ns, measured from the allocation */
            uint64_t from = grey_ticks_to_ns(info->alloc_ticks, &wc->a, &wc->b);
            uint64_t to = grey_ticks_to_ns(info->alloc_ticks + u->gap_ticks, &wc->a, &wc->b);
            r->gap_ns = to > from ? to - from : 0;
        }
        r->dead_writes = u->dead_writes;
        r->dead_bytes = u->dead_bytes;
    }
}

static void write_freed(const struct grey_freed *f, void *arg)
{
    struct grey_raw_buffer b;
    to_raw(arg, &f->info, false, f->free_ticks, &b);
    grey_raw_write_buffer(&writer, &b);
}

/* Each frame as module + offset; modules get record ids in order of first use. */
static unsigned site_frames(const struct grey_site_info *si, struct grey_raw_site *rs, bool assign)
{
    rs->depth = si->depth;
    unsigned next = 0;
    for (unsigned i = 0; i < si->depth; i++) {
        struct grey_module *m = grey_modules_find(&modmap, (uintptr_t)si->frames[i]);
        if (m && m->out_id < 0 && assign)
            m->out_id = -2; /* used; numbered below */
        /* A module not numbered (a site interned between the two passes) is written as a bare
         * address rather than a module id the record never declares. */
        bool numbered = m && m->out_id >= 0;
        rs->frames[i].module = numbered ? m->out_id : -1;
        rs->frames[i].offset = numbered ? si->frames[i] - m->bias : si->frames[i];
        next++;
    }
    return next;
}

static void write_record(int fd, const char *reason)
{
    const struct grey_settings *cfg = grey_settings();
    struct write_ctx wc = {.a = *grey_process_t0()};
    grey_tick_ref_now(&wc.b);
    grey_raw_writer_init(&writer, fd);

    struct grey_raw_header h = {0};
    h.pid = (int)getpid();
    h.run_id = cfg->run_id;
    ssize_t n = readlink("/proc/self/exe", h.exe, sizeof h.exe - 1);
    h.exe[n > 0 ? n : 0] = '\0';
    snprintf(h.reason, sizeof h.reason, "%s", reason);
    h.start_ns = wc.a.ns;
    h.end_ns = wc.b.ns;
    h.dedup = cfg->dedup;
    h.sites = cfg->sites;
    h.depth = cfg->depth;
    struct grey_peak peak;
    sites_peak(&peak);
    h.peak_ns = grey_ticks_to_ns(peak.ticks, &wc.a, &wc.b);
    h.peak_bytes = peak.bytes;
    if (cfg->dedup) {
        struct grey_kernel_peak kp;
        grey_dedup_kernel_peak(&kp);
        h.has_launches = true;
        h.launches = atomic_load_explicit(&grey_dedup_launches, memory_order_relaxed);
        h.kernel_peak_bytes = kp.bytes;
        h.kernel_peak_launch = kp.launch;
        h.kernel_peak_ns = kp.bytes ? grey_ticks_to_ns(kp.ticks, &wc.a, &wc.b) : 0;
    }
    grey_raw_write_header(&writer, &h);
    for (unsigned i = 0; i < nsnapshots; i++)
        grey_raw_write_snapshot(&writer, &snapshots[i]);

    /* Modules: only those some site's frames lie in. */
    grey_modules_load(&modmap);
    struct grey_site_info si;
    struct grey_raw_site rs;
    for (uint32_t id = 1; id < GREY_SITES_CAP; id++)
        if (sites_get(id, &si))
            site_frames(&si, &rs, true);
    uint32_t next_id = 0;
    for (unsigned i = 0; i < modmap.n; i++)
        if (modmap.m[i].out_id == -2) {
            modmap.m[i].out_id = (int)next_id;
            grey_raw_write_module(&writer, next_id++, modmap.m[i].path);
        }
    for (uint32_t id = 0; id < GREY_SITES_CAP; id++) {
        if (!sites_get(id, &si) || (id == GREY_SITE_NONE && si.allocs == 0 && si.live_bytes == 0))
            continue;
        memset(&rs, 0, sizeof rs);
        rs.id = id;
        site_frames(&si, &rs, false);
        rs.live_bytes = si.live_bytes;
        rs.live_count = si.live_count;
        rs.peak_bytes = si.peak_bytes;
        rs.peak_count = si.peak_count;
        rs.allocs = si.allocs;
        rs.alloc_bytes = si.alloc_bytes;
        grey_raw_write_site(&writer, &rs);
    }

    /* Buffers: the live ones, then the freed ones the history still holds. */
    uint32_t pass = tracker_next_pass();
    size_t got;
    while ((got = tracker_collect(pass, batch, sizeof batch / sizeof batch[0])) > 0)
        for (size_t i = 0; i < got; i++) {
            struct grey_raw_buffer b;
            to_raw(&wc, &batch[i], true, 0, &b);
            grey_raw_write_buffer(&writer, &b);
        }
    history_each(write_freed, &wc);

    struct grey_raw_counts c = {
        .freed_dropped = history_dropped(),
        .sites_dropped = sites_dropped(),
        .kernel_args_unknown = grey_dedup_kernel_args_unknown(),
    };
    grey_raw_write_end(&writer, &c);
}

/* Where the exit record goes: GREY_REPORT_DIR/PID.raw under grey-run, else the user's report
 * directory, named after the program. */
static int exit_path(char *out, size_t len, char *err, size_t errlen)
{
    const struct grey_settings *cfg = grey_settings();
    int n;
    if (cfg->report_dir[0]) {
        n = snprintf(out, len, "%s/%d.raw", cfg->report_dir, (int)getpid());
    } else {
        char base[512], exe[512];
        if (grey_report_base(grey_settings()->report_base, base, sizeof base, true, err, errlen) != 0)
            return -1;
        ssize_t e = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[e > 0 ? e : 0] = '\0';
        const char *name = strrchr(exe, '/');
        n = snprintf(out, len, "%s/%s-%d.raw", base, name ? name + 1 : "process", (int)getpid());
    }
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "record path too long");
        return -1;
    }
    return 0;
}

static int live_path(char *out, size_t len, char *err, size_t errlen)
{
    char base[512], dir[600];
    if (grey_report_base(grey_settings()->report_base, base, sizeof base, true, err, errlen) != 0 ||
        grey_report_live_dir(base, dir, sizeof dir) != 0 || grey_report_private_dir(dir, err, errlen) != 0)
        return -1;
    int n = snprintf(out, len, "%s/%d-%u.raw", dir, (int)getpid(), ++live_seq);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Written beside the target and renamed over it: a reader never sees half a record. */
static int write_file(const char *path, const char *reason, char *err, size_t errlen)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    write_record(fd, reason);
    bool ok = !writer.failed;
    if (close(fd) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int grey_recorder_write(const char *reason, char *out, size_t outlen, char *err, size_t errlen)
{
    pthread_mutex_lock(&lock);
    bool live = strcmp(reason, "live") == 0;
    int rc = (live ? live_path(out, outlen, err, errlen) : exit_path(out, outlen, err, errlen));
    if (rc == 0)
        rc = write_file(out, reason, err, errlen);
    pthread_mutex_unlock(&lock);
    return rc;
}

/* ------------------------------------------------------------------ life cycle */

static void at_exit(void)
{
    if (!atomic_load(&grey_recorder_started))
        return; /* a fork child that never allocated: its parent's buffers are not its own */
    const struct grey_settings *cfg = grey_settings();
    grey_agent_stop();
    pthread_mutex_lock(&lock);
    if (cfg->dedup)
        snapshot_locked(GREY_FP_EXIT, 0);
    atomic_store(&exited, true);
    pthread_mutex_unlock(&lock);
    char path[1024], err[1200];
    if (grey_recorder_write("exit", path, sizeof path, err, sizeof err) != 0)
        grey_warn("the buffer record was not written: %s", err);
    else if (!cfg->run_id) /* grey-run speaks for itself */
        grey_warn("buffer record written to %s; 'grey-report %s' shows it", path, path);
}

static void fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    pthread_mutex_init(&start_lock, NULL);
    nsnapshots = 0;
    live_seq = 0;
    atomic_store(&exited, false);
    grey_agent_fork_child();
    grey_fp_publish_fork_child();
    atomic_store(&grey_recorder_started, false); /* its first buffer starts its own agent */
}

void grey_recorder_start_slow(void)
{
    pthread_mutex_lock(&start_lock);
    if (!atomic_load(&grey_recorder_started)) {
        if (!atexit_registered) {
            atexit(at_exit);
            pthread_atfork(NULL, NULL, fork_child);
            atexit_registered = true;
        }
        grey_agent_start();
        atomic_store_explicit(&grey_recorder_started, true, memory_order_release);
    }
    pthread_mutex_unlock(&start_lock);
}

/* ------------------------------------------------------------------ what the shims tell us */

/* A context (or HIP device) is closing: fingerprint its buffers while they exist. */
static void context_closing(uint64_t context, bool certain)
{
    if (!context || !grey_dedup_on() || !atomic_load(&grey_recorder_started) || grey_recorder_exited())
        return;
    if (!certain) {
        /* A release that may leave the context alive: at most one snapshot per second, so a
         * program that retains and releases in a loop is not read back each time. */
        static _Atomic uint64_t last_ns;
        uint64_t now = grey_mono_ns(), prev = atomic_load(&last_ns);
        if (prev && now - prev < 1000000000ull)
            return;
        atomic_store(&last_ns, now);
    }
    grey_recorder_snapshot(GREY_FP_TEARDOWN, context);
}

static const struct grey_recorder_handlers handlers = {
    .buffer_tracked = grey_recorder_start,
    .context_closing = context_closing,
};

void grey_recorder_install(void)
{
    grey_notify_install(&handlers);
    /* Buffers tracked before the handlers were there (a library's constructor allocated before
     * ours ran) must not go unrecorded. */
    uint64_t count, bytes;
    tracker_totals(&count, &bytes);
    if (grey_settings()->record && count)
        grey_recorder_start();
}
