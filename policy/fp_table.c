/* The node's fingerprint table (fp_table.h). */
#include "fp_table.h"
#include "node_client.h"

#include <stdio.h>
#include <string.h>

bool grey_fpt_path(const char *ledger_path, char *out, size_t len)
{
    /* The service's ledger exists on no path: its table is beside the service's socket (the
     * service makes it, tools/noded_fp.c). */
    size_t prefix = strlen(GREY_NODE_LEDGER_PREFIX);
    if (strncmp(ledger_path, GREY_NODE_LEDGER_PREFIX, prefix) == 0)
        ledger_path += prefix;
    int n = snprintf(out, len, "%s.fp", ledger_path);
    return n > 0 && (size_t)n < len;
}

void grey_fpt_publish(struct grey_fpt_section *s, int32_t pid, uint64_t run_id, uint64_t now_ns,
                      const struct grey_fpt_entry *entries, uint32_t count)
{
    if (count > GREY_FPT_ENTRIES)
        count = GREY_FPT_ENTRIES;
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq | 1, memory_order_relaxed); /* odd: being written */
    atomic_thread_fence(memory_order_release);
    s->pid = pid;
    s->run_id = run_id;
    s->published_ns = now_ns;
    s->count = count;
    if (count)
        memcpy(s->entries, entries, count * sizeof *entries);
    atomic_store_explicit(&s->seq, (seq | 1) + 1, memory_order_release);
}

bool grey_fpt_read_section(const struct grey_fpt_section *s, struct grey_fpt_section *out)
{
    uint64_t before = atomic_load_explicit(&((struct grey_fpt_section *)s)->seq, memory_order_acquire);
    if (before == 0 || (before & 1))
        return false;
    out->pid = s->pid;
    out->run_id = s->run_id;
    out->published_ns = s->published_ns;
    out->count = s->count;
    memcpy(out->entries, s->entries, sizeof out->entries);
    atomic_thread_fence(memory_order_acquire);
    uint64_t after = atomic_load_explicit(&((struct grey_fpt_section *)s)->seq, memory_order_relaxed);
    if (after != before)
        return false;
    atomic_store_explicit(&out->seq, before, memory_order_relaxed);
    if (out->count > GREY_FPT_ENTRIES)
        out->count = GREY_FPT_ENTRIES;
    return true;
}

const char *grey_fpt_check(const void *file, size_t len)
{
    if (len < sizeof(struct grey_fpt_header))
        return "shorter than its header";
    const struct grey_fpt_header *h = file;
    if (h->magic != GREY_FPT_MAGIC)
        return "not a grey fingerprint table";
    if (h->version != GREY_FPT_VERSION)
        return "another layout version";
    if (h->sections == 0 || h->sections > GREY_FPT_MAX_SECTIONS || len != grey_fpt_size(h->sections))
        return "its size does not match its sections";
    return NULL;
}
