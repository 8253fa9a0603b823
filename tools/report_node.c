/* grey-report --node (report_node.h). A group is one (GPU row, size, fingerprint) whose members
 * belong to at least two jobs (grey-run's run id; a process outside grey-run is a job of its
 * own): sharing one copy node-wide would give back (members - 1) x size. Only sections of live
 * processes count: a section's (pid, run) must be a process the ledger shows alive, so a dead
 * process's last publication (sections are never cleared) is ignored. */
#include "report_node.h"

#include <cJSON.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger_view.h"
#include "live_client.h"
#include "policy/fp_table.h"
#include "policy/safe_file.h"
#include "policy/size.h"

#define VERIFY_TIMEOUT_MS 20000

struct member {
    struct grey_fpt_entry e;
    int32_t pid;
    uint64_t job;      /* the run id, or the pid's own job outside grey-run */
    uint64_t run_id;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    if (x->e.row != y->e.row)
        return x->e.row < y->e.row ? -1 : 1;
    if (x->e.bytes != y->e.bytes)
        return x->e.bytes < y->e.bytes ? 1 : -1; /* largest first */
    int c = memcmp(&x->e.fp, &y->e.fp, sizeof x->e.fp);
    if (c)
        return c;
    return x->job < y->job ? -1 : x->job > y->job;
}

static bool alive(const struct grey_view *v, int32_t pid, uint64_t run_id)
{
    for (unsigned i = 0; i < v->nprocs; i++)
        if (v->proc[i].pid == pid && v->proc[i].run_id == run_id)
            return true;
    return false;
}

/* The members of live sections, from the mapped table. */
static struct member *collect(const void *table, const struct grey_view *v, size_t *n)
{
    const struct grey_fpt_header *h = table;
    const struct grey_fpt_section *sec = (const struct grey_fpt_section *)((const char *)table + sizeof *h);
    size_t cap = 64, used = 0;
    struct member *m = malloc(cap * sizeof *m);
    static struct grey_fpt_section copy;
    for (uint32_t i = 0; m && i < h->sections; i++) {
        if (!grey_fpt_read_section(&sec[i], &copy) || !alive(v, copy.pid, copy.run_id))
            continue;
        for (uint32_t k = 0; k < copy.count; k++) {
            if (used == cap) {
                struct member *g = realloc(m, 2 * cap * sizeof *m);
                if (!g) {
                    free(m);
                    return NULL;
                }
                m = g, cap *= 2;
            }
            m[used++] = (struct member){copy.entries[k], copy.pid,
                                        copy.run_id ? copy.run_id : (1ull << 63) | (uint32_t)copy.pid, copy.run_id};
        }
    }
    *n = used;
    return m;
}

static cJSON *groups_json(const struct member *m, size_t n, const struct grey_view *v, uint64_t *total)
{
    cJSON *arr = cJSON_CreateArray();
    *total = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1, jobs = 1;
        while (j < n && m[j].e.row == m[i].e.row && m[j].e.bytes == m[i].e.bytes &&
               memcmp(&m[j].e.fp, &m[i].e.fp, sizeof m[i].e.fp) == 0) {
            jobs += m[j].job != m[j - 1].job;
            j++;
        }
        if (jobs >= 2) {
            cJSON *g = cJSON_CreateObject();
            uint64_t back = (uint64_t)(j - i - 1) * m[i].e.bytes;
            *total += back;
            char fp[GREY_FP_TEXT], gpu[128];
            grey_fp_format(m[i].e.fp, fp);
            cJSON_AddNumberToObject(g, "bytes_each", (double)m[i].e.bytes);
            cJSON_AddNumberToObject(g, "count", (double)(j - i));
            cJSON_AddNumberToObject(g, "jobs", (double)jobs);
            cJSON_AddNumberToObject(g, "reclaimable_bytes", (double)back);
            cJSON_AddNumberToObject(g, "gpu_row", m[i].e.row);
            cJSON_AddStringToObject(g, "gpu", m[i].e.row < GREY_MAX_DEVICES ? grey_view_gpu_label(v, (int)m[i].e.row, gpu, sizeof gpu) : "?");
            cJSON_AddStringToObject(g, "fingerprint", fp);
            cJSON *bufs = cJSON_AddArrayToObject(g, "buffers");
            for (size_t k = i; k < j; k++) {
                cJSON *b = cJSON_CreateObject();
                char addr[24], run[24];
                snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)m[k].e.addr);
                snprintf(run, sizeof run, "%llx", (unsigned long long)m[k].run_id);
                cJSON_AddNumberToObject(b, "pid", m[k].pid);
                cJSON_AddStringToObject(b, "run_id", run);
                cJSON_AddStringToObject(b, "address", addr);
                cJSON_AddItemToArray(bufs, b);
            }
            cJSON_AddItemToArray(arr, g);
        }
        i = j;
    }
    return arr;
}

static void text(const cJSON *root, FILE *out)
{
    char a[32], b[32];
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "groups");
    fprintf(out, "grey node: %s, %d processes publishing\n",
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "table")),
            (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "processes")));
    fprintf(out, "reclaimable by sharing across jobs: %s in %d group%s\n",
            grey_size_format((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "reclaimable_bytes")), a,
                             sizeof a),
            cJSON_GetArraySize(groups), cJSON_GetArraySize(groups) == 1 ? "" : "s");
    const cJSON *unconfirmed = cJSON_GetObjectItemCaseSensitive(root, "unconfirmed_groups");
    if (cJSON_IsNumber(unconfirmed)) { /* --verify */
        int n = (int)unconfirmed->valuedouble;
        fprintf(out, "verified byte for byte: %s reclaimable; %d group%s not confirmed\n",
                grey_size_format((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "verified_reclaimable_bytes")),
                                 a, sizeof a),
                n, n == 1 ? "" : "s");
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        const cJSON *ve = cJSON_GetObjectItemCaseSensitive(g, "verified_equal");
        char verified[64] = "";
        if (cJSON_IsNumber(ve))
            snprintf(verified, sizeof verified, " (%s: %d of %d equal to the first)",
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "confirmed")) ? "verified" : "NOT CONFIRMED",
                     (int)ve->valuedouble, (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "count")) - 1);
        fprintf(out, "\n  %s reclaimable: %d identical buffers of %s in %d jobs on %s%s\n    fingerprint %s\n",
                grey_size_format((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "reclaimable_bytes")), a,
                                 sizeof a),
                (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "count")),
                grey_size_format((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "bytes_each")), b, sizeof b),
                (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "jobs")),
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "gpu")), verified,
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "fingerprint")));
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(g, "buffers"))
        {
            const char *result = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "verify_result"));
            const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "verify_error"));
            fprintf(out, "    pid %-7d run %-16s %s%s%s%s%s\n", (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "pid")),
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "run_id")),
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "address")), why ? "  " : "",
                    why && result ? result : "", why ? ": " : "", why ? why : "");
        }
    }
}

cJSON *grey_node_duplicates(const char *ledger_path, char *err, size_t errlen)
{
    char path[4200];
    if (!grey_fpt_path(ledger_path, path, sizeof path)) {
        snprintf(err, errlen, "ledger path too long");
        return NULL;
    }
    /* The table first: without one (nothing recorded yet, as for grey-top's every refresh of
     * most ledgers) the ledger is not copied for nothing. */
    struct stat st;
    bool created;
    int fd = grey_safe_open(path, O_RDONLY, false, 0, &st, &created, err, errlen);
    if (fd < 0)
        return NULL;
    static struct grey_view v;
    if (grey_view_load(ledger_path, false, &v, err, errlen) != 0) {
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    /* Read in place: sections are seqlocks (a reader killed by a truncation is the reader). */
    void *table = len >= sizeof(struct grey_fpt_header) ? mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    const char *bad = table == MAP_FAILED ? "shorter than its header" : grey_fpt_check(table, len);
    if (bad) {
        snprintf(err, errlen, "%s: %s", path, bad);
        if (table != MAP_FAILED)
            munmap(table, len);
        return NULL;
    }
    size_t n = 0;
    struct member *m = collect(table, &v, &n);
    munmap(table, len);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    qsort(m, n, sizeof *m, cmp_member);
    size_t procs = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = m[k].pid == m[i].pid;
        procs += !seen;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "table", path);
    cJSON_AddNumberToObject(root, "processes", (double)procs);
    cJSON_AddNumberToObject(root, "buffers", (double)n);
    uint64_t total;
    cJSON *groups = groups_json(m, n, &v, &total);
    cJSON_AddNumberToObject(root, "reclaimable_bytes", (double)total);
    cJSON_AddItemToObject(root, "groups", groups);
    free(m);
    return root;
}

enum verdict { SAME, DIFFER, UNREADABLE };
static const char *const verdict_name[] = {"equal", "differs", "unreadable"};

/* Whether two members hold the same bytes: read back through both agents, 1 MiB at a time. A
 * difference is named by its first byte, so a reader can tell a stale fingerprint (a write grey
 * did not see) from a forged one (different from the first byte on). */
static enum verdict same_bytes(int pid_a, uint64_t addr_a, int pid_b, uint64_t addr_b, uint64_t bytes, char *why,
                               size_t len)
{
    static unsigned char a[GREY_LIVE_READ_MAX], b[GREY_LIVE_READ_MAX];
    for (uint64_t off = 0; off < bytes; off += GREY_LIVE_READ_MAX) {
        size_t n = bytes - off < GREY_LIVE_READ_MAX ? (size_t)(bytes - off) : GREY_LIVE_READ_MAX;
        if (grey_live_read(pid_a, addr_a, off, a, n, VERIFY_TIMEOUT_MS, why, len) != 0 ||
            grey_live_read(pid_b, addr_b, off, b, n, VERIFY_TIMEOUT_MS, why, len) != 0)
            return UNREADABLE;
        if (memcmp(a, b, n) != 0) {
            size_t i = 0;
            while (a[i] == b[i])
                i++;
            snprintf(why, len, "the bytes differ at offset %llu", (unsigned long long)(off + i));
            return DIFFER;
        }
    }
    return SAME;
}

static uint64_t member_addr(const cJSON *b)
{
    const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "address"));
    return a ? strtoull(a, NULL, 16) : 0;
}

unsigned grey_node_verify(cJSON *root)
{
    unsigned unconfirmed = 0;
    uint64_t verified_back = 0;
    cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(root, "groups"))
    {
        cJSON *bufs = cJSON_GetObjectItemCaseSensitive(g, "buffers");
        const cJSON *first = cJSON_GetArrayItem(bufs, 0);
        uint64_t bytes = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "bytes_each"));
        int pid0 = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(first, "pid"));
        int count[3] = {0};
        cJSON *b;
        cJSON_ArrayForEach(b, bufs)
        {
            if (b == first)
                continue;
            char why[600] = "";
            enum verdict v = same_bytes(pid0, member_addr(first), (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "pid")),
                                        member_addr(b), bytes, why, sizeof why);
            cJSON_AddBoolToObject(b, "verified", v == SAME);
            cJSON_AddStringToObject(b, "verify_result", verdict_name[v]);
            if (v != SAME)
                cJSON_AddStringToObject(b, "verify_error", why[0] ? why : "unreadable");
            count[v]++;
        }
        /* Members are compared with the first: those equal to it could share its copy. */
        cJSON_AddNumberToObject(g, "verified_equal", count[SAME]);
        cJSON_AddNumberToObject(g, "verified_differ", count[DIFFER]);
        cJSON_AddNumberToObject(g, "verified_unreadable", count[UNREADABLE]);
        bool confirmed = count[DIFFER] == 0 && count[UNREADABLE] == 0;
        cJSON_AddBoolToObject(g, "confirmed", confirmed);
        unconfirmed += !confirmed;
        verified_back += (uint64_t)count[SAME] * bytes;
    }
    cJSON_AddNumberToObject(root, "verified_reclaimable_bytes", (double)verified_back);
    cJSON_AddNumberToObject(root, "unconfirmed_groups", unconfirmed);
    return unconfirmed;
}

int grey_report_node(const char *ledger_path, bool json, bool verify, FILE *out, char *err, size_t errlen)
{
    cJSON *root = grey_node_duplicates(ledger_path, err, errlen);
    if (!root)
        return -1;
    int rc = verify && grey_node_verify(root) ? 1 : 0;
    if (json) {
        char *s = cJSON_Print(root);
        if (s)
            fprintf(out, "%s\n", s);
        cJSON_free(s);
    } else {
        text(root, out);
    }
    cJSON_Delete(root);
    return rc;
}
