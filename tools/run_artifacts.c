/* grey-run --artifacts (run_artifacts.h): the sampler and the writers. */
#include "run_artifacts.h"

#include <cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "heatmap_svg.h"
#include "ledger_view.h"
#include "fair_view.h"
#include "nvml_sensors.h"
#include "policy/safe_file.h"
#include "policy/thermal.h"
#include "policy/weights.h"

#define PERIOD_NS 1000000000ull
#define MAX_SAMPLES 86400   /* a day of seconds; later samples are dropped (and said) */
#define MAX_GPUS 16
#define MAX_SERIES 64       /* process x GPU lines in the heat map */

struct thermal_sample {
    int gpu;
    bool have_temp, have_power, known;
    unsigned temp_c;
    double power_w;
    struct grey_thermal_word word;
};

struct fair_sample {
    unsigned series;        /* index into series[] */
    double entitled, measured;
    uint32_t weight;
};

/* One second: the thermal readings and the fair-share lines of that tick. */
struct tick {
    struct thermal_sample thermal[MAX_GPUS];
    unsigned nthermal;
    struct fair_sample fair[MAX_SERIES];
    unsigned nfair;
};

struct series {
    int32_t pid;
    int gpu;                /* NVML / physical index, else the row */
    int row;
    uint64_t busy_ns, at_ns; /* the last sample's, to take the next difference from */
    bool mine;              /* a process of this run (else a competitor on its GPU) */
};

struct run_artifacts {
    char dir[PATH_MAX];
    char ledger[PATH_MAX];
    uint64_t run_id, t0;
    pthread_t thread;
    bool running;
    _Atomic bool stop;
    unsigned nticks, cap_ticks;
    struct tick *ticks;     /* grown by doubling: a second costs about 2 KiB */
    struct series series[MAX_SERIES];
    unsigned nseries;
    struct grey_view view;  /* large: the sampler's scratch */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct run_artifacts *run_artifacts_prepare(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (strlen(dir) >= PATH_MAX - 32) {
        snprintf(err, errlen, "--artifacts %s: the path is too long", dir);
        return NULL;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "--artifacts %s: cannot create it: %s", dir, strerror(errno));
        return NULL;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "--artifacts %s: not a directory grey-run can write", dir);
        return NULL;
    }
    struct run_artifacts *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "--artifacts: out of memory");
        return NULL;
    }
    snprintf(a->dir, sizeof a->dir, "%s", dir);
    return a;
}

/* The ledger row of the GPU NVML numbers index, or -1. */
static int row_of(const struct grey_view *v, int index)
{
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if ((v->gpus & GREY_DEVBIT(d)) && v->gpu[d].index == index)
            return d;
    return -1;
}

static unsigned series_of(struct run_artifacts *a, int32_t pid, int row, int gpu, bool mine)
{
    for (unsigned i = 0; i < a->nseries; i++)
        if (a->series[i].pid == pid && a->series[i].row == row)
            return i;
    if (a->nseries == MAX_SERIES)
        return MAX_SERIES;
    a->series[a->nseries] = (struct series){.pid = pid, .row = row, .gpu = gpu, .mine = mine};
    return a->nseries++;
}

static void sample(struct run_artifacts *a)
{
    if (a->nticks >= MAX_SAMPLES)
        return;
    if (a->nticks == a->cap_ticks) {
        unsigned cap = a->cap_ticks ? a->cap_ticks * 2 : 64;
        struct tick *grown = realloc(a->ticks, (size_t)cap * sizeof *grown);
        if (!grown)
            return; /* the files end at the last second there was room for */
        a->ticks = grown, a->cap_ticks = cap;
    }
    unsigned t = a->nticks++;
    struct tick *k = &a->ticks[t];
    memset(k, 0, sizeof *k);
    char err[256];
    bool have_view = a->ledger[0] && grey_view_load(a->ledger, false, &a->view, err, sizeof err) == 0;
    struct nvml_sensor s[MAX_GPUS];
    int n = nvml_sensors_read(s, MAX_GPUS);
    for (int i = 0; i < n; i++) {
        struct thermal_sample *x = &k->thermal[i];
        int row = have_view ? row_of(&a->view, s[i].index) : -1;
        *x = (struct thermal_sample){.gpu = s[i].index, .have_temp = s[i].have_temp, .have_power = s[i].have_power,
                                     .temp_c = s[i].temp_c, .power_w = s[i].power_w, .known = row >= 0};
        if (row >= 0)
            x->word = grey_thermal_unpack(a->view.thermal[row]);
    }
    k->nthermal = (unsigned)n;
    if (!have_view)
        return;
    uint64_t now = now_ns();
    unsigned nf = 0;
    /* Every process on the GPUs the run's processes use, the others included: a share only
     * means something beside its competitors'. */
    grey_devmask run_gpus = 0;
    for (unsigned i = 0; i < a->view.nprocs; i++)
        if (a->view.proc[i].run_id == a->run_id)
            run_gpus |= a->view.proc[i].devices;
    for (unsigned i = 0; i < a->view.nprocs && nf < MAX_SERIES; i++) {
        const struct grey_view_process *p = &a->view.proc[i];
        for (int d = 0; d < GREY_MAX_DEVICES && nf < MAX_SERIES; d++) {
            const struct grey_view_fair *f = &p->fair[d];
            if (!(run_gpus & GREY_DEVBIT(d)) || (!f->active && !f->busy_ns))
                continue;
            int gpu = (a->view.gpus & GREY_DEVBIT(d)) && a->view.gpu[d].index >= 0 ? a->view.gpu[d].index : d;
            unsigned sx = series_of(a, p->pid, d, gpu, p->run_id == a->run_id);
            if (sx == MAX_SERIES)
                continue;
            struct series *se = &a->series[sx];
            double entitled, unused;
            grey_fair_shares(&a->view, i, d, &entitled, &unused);
            double measured = 0;
            bool first = !se->at_ns; /* nothing to take a difference from yet: no line */
            if (!first && now > se->at_ns && f->busy_ns >= se->busy_ns)
                measured = (double)(f->busy_ns - se->busy_ns) / (double)(now - se->at_ns);
            se->busy_ns = f->busy_ns, se->at_ns = now;
            if (first)
                continue;
            k->fair[nf++] = (struct fair_sample){.series = sx, .entitled = entitled,
                                                    .measured = measured > 1 ? 1 : measured, .weight = f->weight};
        }
    }
    k->nfair = nf;
}

static void *sampler(void *arg)
{
    struct run_artifacts *a = arg;
    uint64_t next = now_ns();
    while (!atomic_load(&a->stop)) {
        sample(a);
        next += PERIOD_NS;
        /* Short sleeps, so the job's end is not waited on for up to a second. */
        while (!atomic_load(&a->stop) && now_ns() < next) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

void run_artifacts_start(struct run_artifacts *a, const char *ledger_path, uint64_t run_id)
{
    snprintf(a->ledger, sizeof a->ledger, "%s", ledger_path ? ledger_path : "");
    a->run_id = run_id;
    a->t0 = now_ns();
    /* grey-run forwards signals to the job from its main thread: the sampler takes none. */
    sigset_t all, prev;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &prev);
    a->running = pthread_create(&a->thread, NULL, sampler, a) == 0;
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
}

/* ------------------------------------------------------------------ the files */

typedef int (*writer_fn)(FILE *f, const struct run_artifacts *a, const void *arg);

/* DIR/name, written to a fresh temporary file beside it and renamed into place. */
static int write_file(const struct run_artifacts *a, const char *name, writer_fn fn, const void *arg, char *err,
                      size_t errlen)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 96], why[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s", a->dir, name);
    int fd = grey_safe_temp_beside(path, 0644, tmp, sizeof tmp, why, sizeof why);
    if (fd < 0) {
        snprintf(err, errlen, "--artifacts: %s", why);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        snprintf(err, errlen, "--artifacts: %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = fn(f, a, arg);
    if (fflush(f) != 0 || ferror(f))
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "--artifacts: cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static const char *level_name(const struct grey_thermal_word *w)
{
    static const char *const names[2][3] = {{"cool", "warm", "hot"}, {"dry-run-cool", "dry-run-warm", "dry-run-hot"}};
    return names[w->dry_run][w->level <= GREY_THERMAL_HOT ? w->level : 0];
}

static int write_thermal(FILE *f, const struct run_artifacts *a, const void *arg)
{
    (void)arg;
    fputs("t_s,gpu,temp_c,power_w,thermal,ceiling_pct\n", f);
    for (unsigned t = 0; t < a->nticks; t++)
        for (unsigned i = 0; i < a->ticks[t].nthermal; i++) {
            const struct thermal_sample *x = &a->ticks[t].thermal[i];
            fprintf(f, "%u,%d,", t, x->gpu);
            if (x->have_temp)
                fprintf(f, "%u", x->temp_c);
            fputc(',', f);
            if (x->have_power)
                fprintf(f, "%.1f", x->power_w);
            if (!x->known || !x->word.sampled) {
                fputs(x->known ? ",unwatched,100\n" : ",,\n", f);
                continue;
            }
            uint32_t ceiling = x->word.dry_run || !x->word.device_share ? GREY_SHARE_ONE : x->word.device_share;
            fprintf(f, ",%s,%.1f\n", level_name(&x->word), ceiling * 100.0 / GREY_SHARE_ONE);
        }
    return 0;
}

static int write_fair(FILE *f, const struct run_artifacts *a, const void *arg)
{
    (void)arg;
    fputs("t_s,pid,gpu,weight,entitled_pct,measured_pct,this_run\n", f);
    for (unsigned t = 0; t < a->nticks; t++)
        for (unsigned i = 0; i < a->ticks[t].nfair; i++) {
            const struct fair_sample *x = &a->ticks[t].fair[i];
            const struct series *se = &a->series[x->series];
            fprintf(f, "%u,%d,%d,%u,%.1f,%.1f,%d\n", t, se->pid, se->gpu, x->weight ? x->weight : 1, x->entitled * 100,
                    x->measured * 100, se->mine ? 1 : 0);
        }
    return 0;
}

static int write_svg(FILE *f, const struct run_artifacts *a, const void *arg)
{
    (void)arg;
    unsigned rows = a->nseries, cols = a->nticks;
    double *measured = calloc((size_t)(rows ? rows : 1) * (cols ? cols : 1), sizeof *measured);
    double *entitled = calloc((size_t)(rows ? rows : 1) * (cols ? cols : 1), sizeof *entitled);
    char(*labels)[64] = calloc(rows ? rows : 1, sizeof *labels);
    const char **label_ptr = calloc(rows ? rows : 1, sizeof *label_ptr);
    int rc = -1;
    if (measured && entitled && labels && label_ptr) {
        for (unsigned t = 0; t < cols; t++)
            for (unsigned i = 0; i < a->ticks[t].nfair; i++) {
                const struct fair_sample *x = &a->ticks[t].fair[i];
                measured[x->series * cols + t] = x->measured;
                entitled[x->series * cols + t] = x->entitled;
            }
        for (unsigned r = 0; r < rows; r++) {
            uint32_t w = 0;
            for (unsigned t = 0; t < cols && !w; t++)
                for (unsigned i = 0; i < a->ticks[t].nfair; i++)
                    if (a->ticks[t].fair[i].series == r)
                        w = a->ticks[t].fair[i].weight;
            snprintf(labels[r], sizeof labels[r], "pid %d, GPU %d, weight %u%s", a->series[r].pid, a->series[r].gpu,
                     w ? w : 1, a->series[r].mine ? "" : " (other run)");
            label_ptr[r] = labels[r];
        }
        struct heatmap h = {.nrows = rows, .ncols = cols, .bin_s = PERIOD_NS / 1e9, .labels = label_ptr,
                            .measured = measured, .entitled = entitled};
        rc = heatmap_svg_write(f, &h, "grey: fair share of the run");
    }
    free(measured), free(entitled), free(labels), free(label_ptr);
    return rc;
}

static int write_vram(FILE *f, const struct run_artifacts *a, const void *arg)
{
    (void)a;
    const struct run_summary *sum = ((const void *const *)arg)[0];
    uint64_t reclaimable = *(const uint64_t *)((const void *const *)arg)[1];
    cJSON *root = cJSON_CreateObject(), *gpus = cJSON_AddArrayToObject(root, "gpus");
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        const struct run_summary_gpu *g = &sum->gpu[d];
        if (!g->processes)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(gpus, o);
        cJSON_AddNumberToObject(o, "row", d);
        if (g->have_id) {
            cJSON_AddNumberToObject(o, "index", g->id.index);
            cJSON_AddStringToObject(o, "uuid", g->id.uuid);
        }
        if (g->cap == UINT64_MAX)
            cJSON_AddNullToObject(o, "cap_bytes");
        else
            cJSON_AddNumberToObject(o, "cap_bytes", (double)g->cap);
        cJSON_AddNumberToObject(o, "peak_bytes", (double)g->peak);
        if (g->cap == UINT64_MAX || !g->cap)
            cJSON_AddNullToObject(o, "peak_of_cap");
        else
            cJSON_AddNumberToObject(o, "peak_of_cap", (double)g->peak / (double)g->cap);
        cJSON_AddNumberToObject(o, "denied", (double)g->denied);
        cJSON_AddNumberToObject(o, "largest_denied_bytes", (double)g->largest_denied);
        cJSON_AddNumberToObject(o, "throttled_seconds", g->throttled_ns / 1e9);
        cJSON_AddNumberToObject(o, "processes", g->processes);
    }
    cJSON_AddNumberToObject(root, "reclaimable_bytes", (double)reclaimable);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return -1;
    fprintf(f, "%s\n", text);
    free(text);
    return 0;
}

int run_artifacts_finish(struct run_artifacts *a, const struct run_summary *sum, uint64_t reclaimable, char *err,
                         size_t errlen)
{
    atomic_store(&a->stop, true);
    if (a->running)
        pthread_join(a->thread, NULL);
    if (a->nticks == 0) /* a job shorter than the first tick still gets one line */
        sample(a);
    const void *vram_arg[2] = {sum, &reclaimable};
    int rc = write_file(a, "vram-summary.json", write_vram, vram_arg, err, errlen);
    if (rc == 0)
        rc = write_file(a, "thermal.csv", write_thermal, NULL, err, errlen);
    if (rc == 0)
        rc = write_file(a, "fairness.csv", write_fair, NULL, err, errlen);
    if (rc == 0)
        rc = write_file(a, "fairness.svg", write_svg, NULL, err, errlen);
    free(a->ticks);
    free(a);
    return rc;
}

uint64_t run_artifacts_reclaimable(const char *ledger_path)
{
    static struct grey_view v; /* large */
    char why[256];
    if (!ledger_path || grey_view_load(ledger_path, false, &v, why, sizeof why) != 0)
        return 0;
    return v.stale_bytes + v.orphaned_bytes;
}
