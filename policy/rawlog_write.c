/* Writing the raw record (format in rawlog.h). Runs inside the hooked process at exit. */
#include "rawlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tracker.h"

static const char *const source_names[] = {"none", "upload", "periodic", "peak", "teardown", "exit", "live"};
static const char *const kind_names[] = {"ptr", "handle", "context"};

const char *grey_fp_source_name(uint32_t source)
{
    return source < sizeof source_names / sizeof source_names[0] ? source_names[source] : "none";
}

const char *grey_raw_kind_name(uint8_t kind)
{
    return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "handle";
}

void grey_raw_writer_init(struct grey_raw_writer *w, int fd)
{
    w->fd = fd;
    w->failed = false;
    w->used = 0;
}

static void flush(struct grey_raw_writer *w)
{
    size_t off = 0;
    while (off < w->used && !w->failed) {
        ssize_t n = write(w->fd, w->buf + off, w->used - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            w->failed = true;
        else
            off += (size_t)n;
    }
    w->used = 0;
}

/* One line; lines longer than the buffer are cut (only a path could be, and PATH_MAX is less). */
__attribute__((format(printf, 2, 3))) static void line(struct grey_raw_writer *w, const char *fmt, ...)
{
    if (sizeof w->buf - w->used < 2048)
        flush(w);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->used, sizeof w->buf - w->used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t room = sizeof w->buf - w->used;
    if ((size_t)n >= room) { /* truncated: keep what fits and end the line */
        w->used = sizeof w->buf - 1;
        w->buf[w->used++] = '\n';
        return;
    }
    w->used += (size_t)n;
}

/* Strips newlines from text that ends a line (a path with a newline would break the format). */
static void clean(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < len; i++)
        dst[i] = (src[i] == '\n' || src[i] == '\r') ? '?' : src[i];
    dst[i] = '\0';
}

void grey_raw_write_header(struct grey_raw_writer *w, const struct grey_raw_header *h)
{
    char exe[sizeof h->exe];
    clean(exe, sizeof exe, h->exe);
    line(w, "grey-raw %d\n", GREY_RAW_VERSION);
    line(w, "pid %d\n", h->pid);
    line(w, "run %llx\n", (unsigned long long)h->run_id);
    line(w, "exe %s\n", exe[0] ? exe : "?");
    line(w, "reason %s\n", h->reason[0] ? h->reason : "exit");
    line(w, "times %llu %llu\n", (unsigned long long)h->start_ns, (unsigned long long)h->end_ns);
    line(w, "config dedup=%d sites=%d depth=%u\n", h->dedup, h->sites, h->depth);
    line(w, "peak %llu %llu\n", (unsigned long long)h->peak_ns, (unsigned long long)h->peak_bytes);
    if (h->has_launches)
        line(w, "launches %llu %llu %llu %llu\n", (unsigned long long)h->launches,
             (unsigned long long)h->kernel_peak_bytes, (unsigned long long)h->kernel_peak_launch,
             (unsigned long long)h->kernel_peak_ns);
}

void grey_raw_write_snapshot(struct grey_raw_writer *w, const struct grey_raw_snapshot *s)
{
    line(w, "snapshot %s %llu %llu %llu %llu\n", grey_fp_source_name(s->source), (unsigned long long)s->ns,
         (unsigned long long)s->buffers, (unsigned long long)s->bytes, (unsigned long long)s->failed);
}

void grey_raw_write_module(struct grey_raw_writer *w, uint32_t id, const char *path)
{
    char p[1024];
    clean(p, sizeof p, path);
    line(w, "module %u %s\n", id, p[0] ? p : "?");
}

void grey_raw_write_site(struct grey_raw_writer *w, const struct grey_raw_site *s)
{
    char frames[GREY_SITE_MAX_DEPTH * 32] = "";
    size_t used = 0;
    unsigned depth = s->depth > GREY_SITE_MAX_DEPTH ? GREY_SITE_MAX_DEPTH : s->depth;
    for (unsigned i = 0; i < depth; i++) {
        int n = snprintf(frames + used, sizeof frames - used, " %d:%llx", (int)s->frames[i].module,
                         (unsigned long long)s->frames[i].offset);
        if (n < 0 || (size_t)n >= sizeof frames - used)
            break;
        used += (size_t)n;
    }
    line(w, "site %u %llu %llu %llu %llu %llu %llu %u%s\n", s->id, (unsigned long long)s->live_bytes,
         (unsigned long long)s->live_count, (unsigned long long)s->peak_bytes, (unsigned long long)s->peak_count,
         (unsigned long long)s->allocs, (unsigned long long)s->alloc_bytes, depth, frames);
}

void grey_raw_write_buffer(struct grey_raw_writer *w, const struct grey_raw_buffer *b)
{
    char fp[GREY_FP_TEXT] = "-";
    if (b->has_fp)
        grey_fp_format(b->fp, fp);
    char api[sizeof b->api];
    clean(api, sizeof api, b->api);
    for (char *c = api; *c; c++)
        if (*c == ' ')
            *c = '_';
    line(w, "buf %s %s %s %llx %llu %u %u %llu %llu %x %llu %s %s %llu %d\n", b->live ? "live" : "freed",
         grey_raw_kind_name(b->kind), api[0] ? api : "?", (unsigned long long)b->addr, (unsigned long long)b->bytes,
         b->device, b->site, (unsigned long long)b->alloc_ns, (unsigned long long)b->free_ns, b->touched,
         (unsigned long long)b->last_use_ns, fp, grey_fp_source_name(b->has_fp ? b->fp_source : GREY_FP_NONE),
         (unsigned long long)b->fp_ns, b->fp_stale ? 1 : 0);
    if (b->has_use) {
        const struct grey_raw_use *u = &b->use;
        line(w, "use %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n", (unsigned long long)u->alloc_launch,
             (unsigned long long)u->free_launch, (unsigned long long)u->first_launch,
             (unsigned long long)u->last_launch, (unsigned long long)u->uses, (unsigned long long)u->first_ns,
             (unsigned long long)u->gap_launches, (unsigned long long)u->gap_ns,
             (unsigned long long)u->dead_writes, (unsigned long long)u->dead_bytes);
    }
}

int grey_raw_write_end(struct grey_raw_writer *w, const struct grey_raw_counts *c)
{
    line(w, "dropped freed=%llu sites=%llu kernel_args=%llu\n", (unsigned long long)c->freed_dropped,
         (unsigned long long)c->sites_dropped, (unsigned long long)c->kernel_args_unknown);
    line(w, "end\n");
    flush(w);
    return w->failed ? -1 : 0;
}
