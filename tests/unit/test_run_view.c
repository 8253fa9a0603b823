/* The run's view NVML queries report inside a job (policy/run_view.h): the run's processes and
 * no one else's, and never a slot past the mapping whatever the shared header now says. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "policy/run_view.h"

#define MiB (1024ULL * 1024)

static struct grey_ledger lg;

static void open_ledger(void)
{
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/grey-run-view.%d", (int)getpid());
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0, "%s", err);
    unlink(path);
}

static struct grey_slot *holder(unsigned i, uint64_t run, uint64_t bytes)
{
    struct grey_slot *s = &lg.slots[i];
    s->pid = (int32_t)(1000 + i);
    s->run_id = run;
    atomic_store(&s->dev[2].used, bytes);
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    return s;
}

Test(run_view, lists_the_runs_processes_only)
{
    open_ledger();
    struct grey_slot *me = holder(0, 7, 100 * MiB);
    holder(5, 7, 200 * MiB);
    holder(9, 8, 400 * MiB); /* another run */
    struct grey_run_process out[8];
    uint64_t used;
    cr_assert_eq(grey_run_view(lg.header, me, 2, out, 8, &used), 2);
    cr_assert_eq(used, 300 * MiB);
    cr_assert_eq(out[1].pid, 1005);
    cr_assert_eq(grey_run_view(lg.header, me, 3, out, 8, &used), 0, "nothing held on another device");
    cr_assert_eq(grey_run_view(lg.header, me, GREY_MAX_DEVICES, out, 8, &used), 0, "a row past the table is none");
    grey_ledger_close(&lg);
}

/* Another user who may write a node ledger changes the slot count after every reader validated
 * it: the view still reads only the slots the file was mapped with (ASan would see the rest). */
Test(run_view, a_slot_count_rewritten_after_validation_is_not_followed)
{
    open_ledger();
    struct grey_slot *me = holder(0, 7, 100 * MiB);
    holder(GREY_LEDGER_SLOTS - 1, 7, 50 * MiB);
    lg.header->nslots = 1u << 30;
    struct grey_run_process out[4];
    uint64_t used;
    cr_assert_eq(grey_run_view(lg.header, me, 2, out, 4, &used), 2);
    cr_assert_eq(used, 150 * MiB);
    grey_ledger_close(&lg);
}
