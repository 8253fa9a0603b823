/* The live grey-top's data (tools/top_model.c): GPUs merged over ledgers, one row per process and
 * GPU, the sort orders, COMMAND as basename and arguments, the ledgers an admin reads, and a
 * missing ledger as a note rather than an error. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/top_model.h"

#define MiB (1024ULL * 1024)

static struct grey_view a, b;

/* A view with one GPU row (uuid, budget) and no process yet. */
static void gpu_view(struct grey_view *v, int row, const char *uuid, uint64_t budget, uint64_t used)
{
    memset(v, 0, sizeof *v);
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        v->budget[d] = UINT64_MAX;
    v->gpus |= GREY_DEVBIT(row);
    v->devices |= GREY_DEVBIT(row);
    v->gpu[row].index = 3;
    snprintf(v->gpu[row].uuid, sizeof v->gpu[row].uuid, "%s", uuid);
    snprintf(v->gpu[row].name, sizeof v->gpu[row].name, "Sim\tGPU"); /* a tab: made printable */
    v->gpu[row].total_bytes = 80ULL << 30;
    v->budget[row] = budget;
    v->used[row] = used;
}

static void process(struct grey_view *v, int32_t pid, int row, uint64_t used, uint64_t launches, const char *cmd)
{
    struct grey_view_process *p = &v->proc[v->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->other_pidns = true; /* not in our namespace: the ledger's command is used, not /proc */
    snprintf(p->user, sizeof p->user, "u%d", (int)pid);
    snprintf(p->command, sizeof p->command, "%s", cmd);
    p->launches = launches;
    if (row >= 0) {
        p->devices |= GREY_DEVBIT(row);
        p->dev[row].used = used;
        p->dev[row].cap = UINT64_MAX;
        p->fair[row].weight = 1;
        p->fair[row].active = true;
        p->fair[row].recent_ns = used; /* measured share in proportion to the bytes, for the test */
    }
}

Test(top_model, merges_one_gpu_named_in_two_ledgers_and_sorts_rows)
{
    gpu_view(&a, 0, "GPU-aaaa", 1024 * MiB, 300 * MiB);
    process(&a, 40, 0, 100 * MiB, 7, "/opt/x/bin/python3 train.py --lr 1");
    process(&a, 10, 0, 200 * MiB, 9, "/usr/bin/small");
    gpu_view(&b, 5, "GPU-aaaa", UINT64_MAX, 500 * MiB); /* the same GPU at another row, no budget */
    process(&b, 20, 5, 500 * MiB, 1, "relative/tool a b");
    process(&b, 30, -1, 0, 50, "idle");

    struct top_model m = {0};
    top_model_reset(&m, "L");
    top_model_add_view(&m, &a);
    top_model_add_view(&m, &b);
    cr_assert_eq(m.ngpus, 1, "one GPU, not one per ledger row");
    cr_assert_eq(m.gpu[0].used, 800 * MiB);
    cr_assert_eq(m.gpu[0].budget, 1024 * MiB, "the one budget set");
    cr_assert_eq(m.gpu[0].used_budgeted, 300 * MiB, "what the budget covers: its own ledger's bytes");
    cr_assert_eq(m.gpu[0].index, 3);
    cr_assert_str_eq(m.gpu[0].label, "GPU 3");
    cr_assert_str_eq(m.gpu[0].name, "Sim?GPU");
    cr_assert_eq(m.nprocs, 4);
    cr_assert_eq(m.nrows, 4);

    top_model_sort(&m, TOP_SORT_MEMORY);
    cr_assert_eq(m.rows[0].pid, 20);
    cr_assert_eq(m.rows[1].pid, 10);
    cr_assert_eq(m.rows[2].pid, 40);
    cr_assert_eq(m.rows[3].pid, 30);
    cr_assert_eq(m.rows[3].gpu, -1, "a process that used no GPU has a row without one");
    cr_assert_str_eq(m.rows[2].command, "python3 train.py --lr 1");
    cr_assert_str_eq(m.rows[0].command, "tool a b");

    top_model_sort(&m, TOP_SORT_LAUNCHES);
    cr_assert_eq(m.rows[0].pid, 30);
    cr_assert_eq(m.rows[3].pid, 20);
    top_model_sort(&m, TOP_SORT_PID);
    for (unsigned i = 1; i < m.nrows; i++)
        cr_assert_lt(m.rows[i - 1].pid, m.rows[i].pid);
    top_model_sort(&m, TOP_SORT_SHARE);
    cr_assert_eq(m.rows[0].pid, 20, "alone in its ledger: all of the time measured there");
    cr_assert_float_eq(m.rows[0].measured, 1.0, 1e-9);
    cr_assert_eq(m.rows[1].pid, 10, "200 of the 300 measured in its ledger");
    cr_assert_float_eq(m.rows[1].measured, 2.0 / 3, 1e-9);
    cr_assert_float_eq(m.rows[1].entitled, 0.5, 1e-9, "weight 1 of 2 active");
    top_model_free(&m);
}

Test(top_model, budgets_of_two_ledgers_add_up)
{
    gpu_view(&a, 0, "GPU-aaaa", 1024 * MiB, 0);
    gpu_view(&b, 1, "GPU-aaaa", 512 * MiB, 0);
    struct top_model m = {0};
    top_model_reset(&m, "L");
    top_model_add_view(&m, &a);
    top_model_add_view(&m, &b);
    cr_assert_eq(m.ngpus, 1);
    cr_assert_eq(m.gpu[0].budget, 1536 * MiB);
    top_model_free(&m);
}

Test(top_model, command_from_proc_is_the_basename_and_arguments)
{
    char out[TOP_COMMAND_MAX], self[4096] = "";
    FILE *f = fopen("/proc/self/cmdline", "r");
    cr_assert_not_null(f);
    size_t n = fread(self, 1, sizeof self - 1, f);
    fclose(f);
    cr_assert_gt(n, 0);
    const char *base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self; /* argv[0] ends at its NUL */
    top_command(getpid(), false, "ignored", out, sizeof out);
    cr_assert(strncmp(out, base, strlen(base)) == 0 && strcmp(out, "ignored") != 0, "got '%s', argv[0] '%s'", out,
              self);
    cr_assert(strchr(self, '/') == NULL || strncmp(out, self, strlen(self)) != 0, "the directory is dropped");
    top_command(-1, false, "/a/b/c", out, sizeof out);
    cr_assert_str_eq(out, "c");
}

Test(top_model, a_missing_ledger_is_a_note_not_an_error)
{
    char paths[1][PATH_MAX];
    snprintf(paths[0], sizeof paths[0], "/nonexistent-grey-dir/ledger");
    struct top_model m = {0};
    top_model_load(&m, paths, 1);
    cr_assert_eq(m.nrows, 0);
    cr_assert_eq(m.nledgers, 0);
    cr_assert(strstr(m.note, "no ledger at /nonexistent-grey-dir/ledger yet"), "note: %s", m.note);
    top_model_free(&m);
}

Test(top_model, ledgers_to_read)
{
    static char paths[TOP_MAX_LEDGERS][PATH_MAX];
    cr_assert_eq(top_ledger_list("/given", "/default", true, paths, TOP_MAX_LEDGERS), 1, "--ledger: just that");
    cr_assert_str_eq(paths[0], "/given");
    cr_assert_eq(top_ledger_list(NULL, "/default", false, paths, TOP_MAX_LEDGERS), 1, "a user: their own");
    cr_assert_str_eq(paths[0], "/default");
    unsigned n = top_ledger_list(NULL, "/default", true, paths, TOP_MAX_LEDGERS);
    cr_assert_geq(n, 1);
    cr_assert_str_eq(paths[0], "/default", "root: the node's ledger first");
    for (unsigned i = 1; i < n; i++) {
        cr_assert(strncmp(paths[i], "/dev/shm/grey-", 14) == 0, "%s", paths[i]);
        for (unsigned j = 0; j < i; j++)
            cr_assert_str_neq(paths[i], paths[j], "no ledger twice");
    }
}

/* The live screen's duplicates (tools/top_node_dups.h): every group counted, the largest
 * TOP_DUP_GROUPS kept in order of what sharing gives back, ties in arrival order. */
Test(top_model, duplicate_groups_keep_the_largest_in_order)
{
    struct top_dups d = {0};
    /* Twelve groups, reclaimable 1, 7, 2, 8, ... MiB: not in order, more than are kept. */
    static const unsigned mib[] = {1, 7, 2, 8, 3, 9, 4, 10, 5, 11, 6, 12};
    for (unsigned i = 0; i < sizeof mib / sizeof mib[0]; i++) {
        struct top_dup_group g = {.bytes_each = mib[i] * MiB, .reclaimable = mib[i] * MiB, .count = 2, .jobs = 2};
        snprintf(g.gpu, sizeof g.gpu, "GPU %u", i);
        top_dups_keep(&d, &g);
    }
    cr_assert_eq(d.ngroups, 12, "every group counted");
    for (unsigned k = 0; k < TOP_DUP_GROUPS; k++)
        cr_assert_eq(d.group[k].reclaimable, (12 - k) * MiB, "kept %u: %llu MiB", k,
                     (unsigned long long)(d.group[k].reclaimable / MiB));
    struct top_dup_group tie = {.reclaimable = 12 * MiB};
    snprintf(tie.gpu, sizeof tie.gpu, "tie");
    top_dups_keep(&d, &tie);
    cr_assert_str_eq(d.group[0].gpu, "GPU 11", "an equal group arriving later goes after");
    cr_assert_str_eq(d.group[1].gpu, "tie");
    cr_assert_eq(d.group[TOP_DUP_GROUPS - 1].reclaimable, 6 * MiB, "the smallest kept fell off the end");
}
