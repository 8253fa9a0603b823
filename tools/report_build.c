#include "report_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/safe_file.h"
#include "report_builder.h"
#include "symbolize.h"

#define PEAK_SITES_MAX 50
#define TOP_SITES 10
#define LIST_MAX GREY_REPORT_LIST_MAX

/* ------------------------------------------------------------------ loading raw records */

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int grey_report_load_raw(const char *path, struct grey_raw_process **procs, size_t *nprocs, char *err, size_t errlen)
{
    *procs = NULL;
    *nprocs = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        *procs = calloc(1, sizeof **procs);
        if (!*procs || grey_raw_read(path, *procs, err, errlen) != 0) {
            free(*procs);
            *procs = NULL;
            return -1;
        }
        *nprocs = 1;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".raw") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p)
                break;
            names = p;
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n == 0) {
        free(names);
        snprintf(err, errlen, "%s holds no raw records (*.raw)", path);
        return -1;
    }
    qsort(names, n, sizeof *names, cmp_name);
    *procs = calloc(n, sizeof **procs);
    int rc = *procs ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i] ? names[i] : "");
        if (grey_raw_read(file, &(*procs)[*nprocs], err, errlen) != 0)
            rc = -1;
        else
            (*nprocs)++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc != 0) {
        grey_report_free_raw(*procs, *nprocs);
        *procs = NULL;
        *nprocs = 0;
    }
    return rc;
}

void grey_report_free_raw(struct grey_raw_process *procs, size_t nprocs)
{
    for (size_t i = 0; i < nprocs; i++)
        grey_raw_free(&procs[i]);
    free(procs);
}

/* ------------------------------------------------------------------ building */

#define builder grey_report_builder

double grey_report_rel_s(const struct grey_raw_process *p, uint64_t ns)
{
    return ns > p->hdr.start_ns ? (double)(ns - p->hdr.start_ns) / 1e9 : 0.0;
}

static const char *module_path(const struct grey_raw_process *p, int32_t module)
{
    return module >= 0 && (size_t)module < p->nmodules ? p->modules[module] : NULL;
}

static void add_site_frames(struct builder *b, const struct grey_raw_process *p, const struct grey_raw_site *s)
{
    for (unsigned i = 0; s && i < s->depth; i++) {
        const char *m = module_path(p, s->frames[i].module);
        if (m)
            grey_symbolizer_add(b->sym, m, s->frames[i].offset);
    }
}

/* A frame in inlined code: the functions it was inlined into, innermost first, each with the
 * file and line of the inlined call. */
static void add_inlined_into(cJSON *frame, const struct grey_symbol *caller)
{
    cJSON *list = cJSON_AddArrayToObject(frame, "inlined_into");
    for (; caller; caller = caller->inlined_into) {
        cJSON *c = cJSON_CreateObject();
        if (caller->function)
            cJSON_AddStringToObject(c, "function", caller->function);
        else
            cJSON_AddNullToObject(c, "function");
        if (caller->file)
            cJSON_AddStringToObject(c, "file", caller->file);
        else
            cJSON_AddNullToObject(c, "file");
        cJSON_AddNumberToObject(c, "line", caller->line);
        cJSON_AddItemToArray(list, c);
    }
}

cJSON *grey_report_site_json(struct builder *b, const struct grey_raw_process *p, uint32_t id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", id);
    cJSON *frames = cJSON_AddArrayToObject(o, "frames");
    const struct grey_raw_site *s = grey_raw_site(p, id);
    for (unsigned i = 0; s && i < s->depth; i++) {
        cJSON *f = cJSON_CreateObject();
        const char *m = module_path(p, s->frames[i].module);
        const struct grey_symbol *sym = grey_symbolizer_get(b->sym, m, s->frames[i].offset);
        if (sym->function)
            cJSON_AddStringToObject(f, "function", sym->function);
        else
            cJSON_AddNullToObject(f, "function");
        if (sym->file)
            cJSON_AddStringToObject(f, "file", sym->file);
        else
            cJSON_AddNullToObject(f, "file");
        cJSON_AddNumberToObject(f, "line", sym->line);
        if (m)
            cJSON_AddStringToObject(f, "module", m);
        else
            cJSON_AddNullToObject(f, "module");
        char off[24];
        snprintf(off, sizeof off, "0x%llx", (unsigned long long)s->frames[i].offset);
        cJSON_AddStringToObject(f, "offset", off);
        if (sym->inlined_into)
            add_inlined_into(f, sym->inlined_into);
        cJSON_AddItemToArray(frames, f);
    }
    return o;
}

static const char *const touch_names[] = {"upload", "copy_in", "copy_out", "memset", "kernel"};

cJSON *grey_report_buffer_json(struct builder *b, struct grey_buf_ref ref)
{
    const struct grey_raw_process *p = &b->procs[ref.proc];
    const struct grey_raw_buffer *buf = &p->buffers[ref.buf];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pid", p->hdr.pid);
    char addr[24];
    snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)buf->addr);
    cJSON_AddStringToObject(o, "address", addr);
    cJSON_AddNumberToObject(o, "bytes", (double)buf->bytes);
    cJSON_AddNumberToObject(o, "device", buf->device);
    cJSON_AddStringToObject(o, "api", buf->api);
    cJSON_AddNumberToObject(o, "alloc_time_s", grey_report_rel_s(p, buf->alloc_ns));
    if (buf->live)
        cJSON_AddNullToObject(o, "free_time_s");
    else
        cJSON_AddNumberToObject(o, "free_time_s", grey_report_rel_s(p, buf->free_ns));
    cJSON_AddBoolToObject(o, "alive_at_end", buf->live);
    if (buf->last_use_ns)
        cJSON_AddNumberToObject(o, "last_use_s", grey_report_rel_s(p, buf->last_use_ns));
    else
        cJSON_AddNullToObject(o, "last_use_s");
    cJSON *touched = cJSON_AddArrayToObject(o, "touched");
    for (unsigned i = 0; i < sizeof touch_names / sizeof touch_names[0]; i++)
        if (buf->touched & (1u << i))
            cJSON_AddItemToArray(touched, cJSON_CreateString(touch_names[i]));
    cJSON_AddStringToObject(o, "fingerprint_source", grey_fp_source_name(buf->has_fp ? buf->fp_source : 0));
    if (buf->has_use) { /* on the launch clock (policy/buffer_use.h) */
        cJSON *l = cJSON_AddObjectToObject(o, "launch_clock");
        cJSON_AddNumberToObject(l, "alloc", (double)buf->use.alloc_launch);
        cJSON_AddNumberToObject(l, "free", (double)buf->use.free_launch);
        cJSON_AddNumberToObject(l, "uses", (double)buf->use.uses);
        if (buf->use.uses) {
            cJSON_AddNumberToObject(l, "first_use", (double)buf->use.first_launch);
            cJSON_AddNumberToObject(l, "last_use", (double)buf->use.last_launch);
        }
    }
    cJSON_AddItemToObject(o, "site", grey_report_site_json(b, p, buf->site));
    return o;
}

static cJSON *groups_json(struct builder *b, const struct grey_dedup_result *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t g = 0; g < r->ngroups; g++) {
        const struct grey_dedup_group *gr = &r->groups[g];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "count", (double)gr->count);
        cJSON_AddNumberToObject(o, "bytes_each", (double)gr->bytes_each);
        cJSON_AddNumberToObject(o, "reclaimable_bytes", (double)gr->reclaimable);
        char fp[GREY_FP_TEXT];
        grey_fp_format(gr->fp, fp);
        cJSON_AddStringToObject(o, "fingerprint", fp);
        cJSON_AddNumberToObject(o, "device", gr->device);
        cJSON_AddBoolToObject(o, "alive_together", gr->max_alive == gr->count);
        cJSON_AddNumberToObject(o, "max_alive_together", (double)gr->max_alive);
        cJSON *bufs = cJSON_AddArrayToObject(o, "buffers");
        for (size_t i = 0; i < gr->count; i++)
            cJSON_AddItemToArray(bufs, grey_report_buffer_json(b, r->members[gr->first + i]));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *sites_at_peak(struct builder *b, const struct grey_raw_process *p, size_t max)
{
    cJSON *arr = cJSON_CreateArray();
    const struct grey_raw_site *top[PEAK_SITES_MAX];
    size_t n = grey_dedup_peak_sites(p, top, max < PEAK_SITES_MAX ? max : PEAK_SITES_MAX);
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "pid", p->hdr.pid);
        cJSON_AddNumberToObject(o, "bytes", (double)top[i]->peak_bytes);
        cJSON_AddNumberToObject(o, "buffers", (double)top[i]->peak_count);
        cJSON_AddItemToObject(o, "site", grey_report_site_json(b, p, top[i]->id));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *process_json(const struct grey_raw_process *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pid", p->hdr.pid);
    cJSON_AddStringToObject(o, "exe", p->hdr.exe);
    char run[24];
    snprintf(run, sizeof run, "%llx", (unsigned long long)p->hdr.run_id);
    cJSON_AddStringToObject(o, "run_id", run);
    cJSON_AddStringToObject(o, "recorded_at", p->hdr.reason);
    cJSON_AddNumberToObject(o, "duration_s", grey_report_rel_s(p, p->hdr.end_ns));
    cJSON_AddBoolToObject(o, "dedup", p->hdr.dedup);
    cJSON_AddBoolToObject(o, "sites", p->hdr.sites);
    cJSON_AddNumberToObject(o, "stack_depth", p->hdr.depth);
    cJSON_AddNumberToObject(o, "peak_bytes", (double)p->hdr.peak_bytes);
    cJSON_AddNumberToObject(o, "peak_time_s", grey_report_rel_s(p, p->hdr.peak_ns));
    cJSON_AddNumberToObject(o, "buffers_recorded", (double)p->nbuffers);
    cJSON_AddNumberToObject(o, "freed_records_dropped", (double)p->counts.freed_dropped);
    cJSON_AddNumberToObject(o, "sites_dropped", (double)p->counts.sites_dropped);
    cJSON_AddNumberToObject(o, "kernel_launches_not_inspected", (double)p->counts.kernel_args_unknown);
    cJSON *snaps = cJSON_AddArrayToObject(o, "snapshots");
    for (size_t i = 0; i < p->nsnapshots; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "source", grey_fp_source_name(p->snapshots[i].source));
        cJSON_AddNumberToObject(s, "time_s", grey_report_rel_s(p, p->snapshots[i].ns));
        cJSON_AddNumberToObject(s, "buffers", (double)p->snapshots[i].buffers);
        cJSON_AddNumberToObject(s, "bytes", (double)p->snapshots[i].bytes);
        cJSON_AddNumberToObject(s, "failed", (double)p->snapshots[i].failed);
        cJSON_AddItemToArray(snaps, s);
    }
    return o;
}

static cJSON *list_json(struct builder *b, const struct grey_buf_ref *refs, size_t n, bool idle)
{
    cJSON *o = cJSON_CreateObject();
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += b->procs[refs[i].proc].buffers[refs[i].buf].bytes;
    cJSON_AddNumberToObject(o, "count", (double)n);
    cJSON_AddNumberToObject(o, "bytes", (double)bytes);
    cJSON *arr = cJSON_AddArrayToObject(o, "buffers");
    for (size_t i = 0; i < n && i < LIST_MAX; i++) {
        cJSON *bj = grey_report_buffer_json(b, refs[i]);
        if (idle) {
            const struct grey_raw_buffer *buf = &b->procs[refs[i].proc].buffers[refs[i].buf];
            cJSON_AddNumberToObject(bj, "idle_s", (double)(buf->free_ns - buf->last_use_ns) / 1e9);
        }
        cJSON_AddItemToArray(arr, bj);
    }
    return o;
}

void grey_report_add_buffer_frames(struct builder *b, struct grey_buf_ref ref)
{
    const struct grey_raw_process *p = &b->procs[ref.proc];
    add_site_frames(b, p, grey_raw_site(p, p->buffers[ref.buf].site));
}

/* Every frame the report will name, handed to the symbolizer before anything is built. */
static void collect_frames(struct builder *b, const struct grey_dedup_result *r)
{
    for (size_t i = 0; i < r->nmembers; i++) {
        const struct grey_raw_process *p = &b->procs[r->members[i].proc];
        add_site_frames(b, p, grey_raw_site(p, p->buffers[r->members[i].buf].site));
    }
    const struct grey_buf_ref *lists[2] = {r->untouched, r->idle};
    size_t counts[2] = {r->nuntouched, r->nidle};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l] && i < LIST_MAX; i++) {
            const struct grey_raw_process *p = &b->procs[lists[l][i].proc];
            add_site_frames(b, p, grey_raw_site(p, p->buffers[lists[l][i].buf].site));
        }
    for (size_t p = 0; p < b->nprocs; p++)
        for (size_t s = 0; s < b->procs[p].nsites; s++)
            if (b->procs[p].sites[s].peak_bytes || b->procs[p].sites[s].allocs) /* the timeline names all */
                add_site_frames(b, &b->procs[p], &b->procs[p].sites[s]);
}

cJSON *grey_report_build(const struct grey_raw_process *procs, size_t nprocs, const struct grey_dedup_options *opt)
{
    struct grey_dedup_result r;
    if (grey_dedup_analyze(procs, nprocs, opt, &r) != 0)
        return NULL;
    struct grey_waste_result w;
    if (grey_waste_analyze(procs, nprocs, opt, &w) != 0) {
        grey_dedup_result_free(&r);
        return NULL;
    }
    struct builder b = {procs, nprocs, grey_symbolizer_new()};
    collect_frames(&b, &r);
    grey_report_waste_frames(&b, &w);
    grey_symbolizer_resolve(b.sym);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "grey_report", GREY_REPORT_VERSION);
    bool dedup = false;
    for (size_t p = 0; p < nprocs; p++)
        dedup |= procs[p].hdr.dedup;
    cJSON_AddBoolToObject(root, "dedup", dedup);
    cJSON_AddStringToObject(root, "confirmation", "equal size and equal XXH3-128 fingerprint of the contents");
    cJSON_AddNumberToObject(root, "reclaimable_bytes", (double)r.reclaimable);
    cJSON_AddNumberToObject(root, "fingerprinted_buffers", (double)r.fingerprinted);
    cJSON *ps = cJSON_AddArrayToObject(root, "processes");
    for (size_t p = 0; p < nprocs; p++)
        cJSON_AddItemToArray(ps, process_json(&procs[p]));
    cJSON_AddItemToObject(root, "groups", groups_json(&b, &r));

    if (r.peak_proc >= 0) {
        const struct grey_raw_process *p = &procs[r.peak_proc];
        cJSON *peak = cJSON_AddObjectToObject(root, "peak");
        cJSON_AddNumberToObject(peak, "pid", p->hdr.pid);
        cJSON_AddNumberToObject(peak, "time_s", grey_report_rel_s(p, p->hdr.peak_ns));
        cJSON_AddNumberToObject(peak, "bytes", (double)p->hdr.peak_bytes);
        cJSON_AddItemToObject(peak, "sites", sites_at_peak(&b, p, PEAK_SITES_MAX));
        cJSON_AddItemToObject(root, "top_sites", sites_at_peak(&b, p, TOP_SITES));
    } else {
        cJSON_AddNullToObject(root, "peak");
        cJSON_AddArrayToObject(root, "top_sites");
    }
    cJSON_AddItemToObject(root, "never_touched", list_json(&b, r.untouched, r.nuntouched, false));
    cJSON *idle = list_json(&b, r.idle, r.nidle, true);
    cJSON_AddNumberToObject(idle, "idle_threshold_s", (double)opt->idle_min_ns / 1e9);
    cJSON_AddItemToObject(root, "freed_long_after_last_use", idle);
    grey_report_add_waste(&b, root, &w, opt);
    grey_report_add_timeline(&b, root, &r);

    grey_waste_result_free(&w);
    grey_symbolizer_free(b.sym);
    grey_dedup_result_free(&r);
    return root;
}

/* ------------------------------------------------------------------ reading and writing */

/* The report's text, at most GREY_REPORT_MAX_BYTES: reports are a few MiB at most, and a reader
 * that takes any size would let a FIFO or /dev/zero exhaust memory. */
static char *slurp(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    size_t cap = 65536, n = 0;
    bool too_big = (uint64_t)st.st_size > GREY_REPORT_MAX_BYTES;
    char *buf = too_big ? NULL : malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n < cap - 1)
            break;
        if (cap > GREY_REPORT_MAX_BYTES) { /* it grew while being read */
            too_big = true;
            free(buf);
            buf = NULL;
            break;
        }
        char *p = realloc(buf, cap * 2);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (too_big) {
        snprintf(err, errlen, "%s: larger than %u MiB, the most grey-report reads", path, GREY_REPORT_MAX_BYTES >> 20);
        return NULL;
    }
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

cJSON *grey_report_load(const char *path, const struct grey_dedup_options *opt, char **text, char *err,
                        size_t errlen)
{
    *text = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) { /* a FIFO or device would block or never end */
        snprintf(err, errlen, "%s: not a regular file or a directory", path);
        return NULL;
    }
    if (S_ISDIR(st.st_mode) || grey_raw_sniff(path)) {
        struct grey_raw_process *procs;
        size_t n;
        if (grey_report_load_raw(path, &procs, &n, err, errlen) != 0)
            return NULL;
        cJSON *r = grey_report_build(procs, n, opt);
        grey_report_free_raw(procs, n);
        if (!r)
            snprintf(err, errlen, "%s: out of memory", path);
        return r;
    }
    char *buf = slurp(path, err, errlen);
    if (!buf)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(buf, &end, true);
    if (!root) {
        size_t at = end && end >= buf ? (size_t)(end - buf) : 0;
        snprintf(err, errlen, "%s: not valid JSON (error near byte %zu), and not a raw record", path, at);
        free(buf);
        return NULL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "grey_report");
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(v)) {
        snprintf(err, errlen, "%s: JSON, but not a grey buffer report (no \"grey_report\" version)", path);
        cJSON_Delete(root);
        free(buf);
        return NULL;
    }
    if (v->valueint != GREY_REPORT_VERSION) {
        snprintf(err, errlen, "%s: report version %d; this grey reads version %d", path, v->valueint,
                 GREY_REPORT_VERSION);
        cJSON_Delete(root);
        free(buf);
        return NULL;
    }
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "groups")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "processes")) ||
        !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "reclaimable_bytes"))) {
        snprintf(err, errlen, "%s: a grey report without its groups, processes or reclaimable_bytes", path);
        cJSON_Delete(root);
        free(buf);
        return NULL;
    }
    *text = buf;
    return root;
}

int grey_report_write(const cJSON *report, const char *path, char *err, size_t errlen)
{
    char *text = cJSON_Print(report);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* An unpredictable name beside the report, created exclusively (policy/safe_file.h). */
    char tmp[4200];
    int fd = grey_safe_temp_beside(path, grey_safe_replacement_mode(path, 0600), tmp, sizeof tmp, err, errlen);
    int rc = -1;
    if (fd >= 0) {
        size_t len = strlen(text), off = 0;
        while (off < len) {
            ssize_t n = write(fd, text + off, len - off);
            if (n <= 0 && errno != EINTR)
                break;
            if (n > 0)
                off += (size_t)n;
        }
        bool ok = off == len && write(fd, "\n", 1) == 1;
        ok = close(fd) == 0 && ok;
        if (ok && rename(tmp, path) == 0)
            rc = 0;
        else {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    cJSON_free(text);
    return rc;
}

/* ------------------------------------------------------------------ naming sites */

const cJSON *grey_report_site_frame(const cJSON *site)
{
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(site, "frames");
    const cJSON *f, *with_function = NULL;
    cJSON_ArrayForEach(f, frames)
    {
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "file")))
            return f;
        if (!with_function && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "function")))
            with_function = f;
    }
    if (with_function)
        return with_function;
    return cJSON_GetArraySize(frames) > 0 ? cJSON_GetArrayItem(frames, 0) : NULL;
}

const char *grey_report_frame_label(const cJSON *frame, char *buf, size_t len)
{
    if (!frame) {
        snprintf(buf, len, "(no call site recorded)");
        return buf;
    }
    const char *fn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(frame, "function"));
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(frame, "file"));
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(frame, "line");
    const char *module = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(frame, "module"));
    const char *offset = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(frame, "offset"));
    if (fn && file) {
        const char *base = strrchr(file, '/');
        int n = snprintf(buf, len, "%s (%s:%d)", fn, base ? base + 1 : file, cJSON_IsNumber(line) ? line->valueint : 0);
        /* Inlined code: say where, as the first function it was inlined into and its line. */
        const cJSON *into = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(frame, "inlined_into"), 0);
        const char *ifn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(into, "function"));
        const char *ifile = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(into, "file"));
        const cJSON *iline = cJSON_GetObjectItemCaseSensitive(into, "line");
        if (ifn && n >= 0 && (size_t)n < len) {
            const char *ibase = ifile ? strrchr(ifile, '/') : NULL;
            snprintf(buf + n, len - (size_t)n, " inlined into %s (%s:%d)", ifn,
                     ibase ? ibase + 1 : (ifile ? ifile : "?"), cJSON_IsNumber(iline) ? iline->valueint : 0);
        }
    } else if (fn) {
        snprintf(buf, len, "%s", fn);
    } else {
        const char *base = module ? strrchr(module, '/') : NULL;
        snprintf(buf, len, "%s+%s", base ? base + 1 : (module ? module : "?"), offset ? offset : "?");
    }
    return buf;
}

/* True when some group member was allocated at this (pid, site). */
static bool site_has_duplicates(const cJSON *report, double pid, double site_id)
{
    const cJSON *g, *b;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(report, "groups"))
        cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(g, "buffers"))
    {
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(b, "pid");
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "site"), "id");
        if (cJSON_IsNumber(pv) && cJSON_IsNumber(iv) && pv->valuedouble == pid && iv->valuedouble == site_id)
            return true;
    }
    return false;
}

static int cmp_row(const void *a, const void *b)
{
    const struct grey_site_row *x = a, *y = b;
    return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

size_t grey_report_peak_rows(const cJSON *report, const char *key, struct grey_site_row *rows, size_t max)
{
    const cJSON *peak = cJSON_GetObjectItemCaseSensitive(report, "peak");
    const cJSON *sites = cJSON_GetObjectItemCaseSensitive(peak, key);
    if (!sites)
        sites = cJSON_GetObjectItemCaseSensitive(report, key);
    size_t n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, sites)
    {
        char label[600];
        const cJSON *site = cJSON_GetObjectItemCaseSensitive(s, "site");
        grey_report_frame_label(grey_report_site_frame(site), label, sizeof label);
        const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(s, "bytes");
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(s, "buffers");
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(s, "pid");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(site, "id");
        bool dup = cJSON_IsNumber(pid) && cJSON_IsNumber(id) && site_has_duplicates(report, pid->valuedouble, id->valuedouble);
        size_t i = 0;
        while (i < n && strcmp(rows[i].label, label) != 0)
            i++;
        if (i == n) {
            if (n == max)
                continue;
            memset(&rows[n], 0, sizeof rows[n]);
            snprintf(rows[n].label, sizeof rows[n].label, "%s", label);
            n++;
        }
        rows[i].bytes += cJSON_IsNumber(bytes) ? bytes->valuedouble : 0;
        rows[i].buffers += cJSON_IsNumber(count) ? count->valueint : 0;
        rows[i].dup |= dup;
    }
    qsort(rows, n, sizeof *rows, cmp_row);
    return n;
}
