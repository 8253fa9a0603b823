/* What the tools read from a ledger: the checked copy (tools/ledger_view.c) and the Prometheus
 * text made from it (tools/metrics.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/procinfo.h"
#include "tools/ledger_view.h"
#include "tools/metrics.h"

#define MiB (1024ULL * 1024)

static uint64_t image[(GREY_LEDGER_TOTAL_SIZE + 7) / 8];
static struct grey_view view;

static struct grey_ledger_header *fresh_image(void)
{
    memset(image, 0, sizeof image);
    struct grey_ledger_header *h = (struct grey_ledger_header *)image;
    memcpy(h->magic, GREY_LEDGER_MAGIC, sizeof h->magic);
    h->version = GREY_LEDGER_VERSION;
    h->header_size = sizeof *h;
    h->slot_size = sizeof(struct grey_slot);
    h->nslots = GREY_LEDGER_SLOTS;
    h->max_devices = GREY_MAX_DEVICES;
    h->nruns = GREY_LEDGER_RUNS;
    h->total_size = GREY_LEDGER_TOTAL_SIZE;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        h->device_budget[d] = UINT64_MAX;
    return h;
}

static struct grey_slot *slot(unsigned i)
{
    return (struct grey_slot *)((char *)image + sizeof(struct grey_ledger_header)) + i;
}

static bool only_odd_pids_alive(uint32_t i, void *arg)
{
    (void)arg;
    return slot(i)->pid % 2 == 1;
}

Test(ledger_view, shows_live_processes_with_safe_commands)
{
    struct grey_ledger_header *h = fresh_image();
    h->device_budget[1] = 1024 * MiB;
    h->device_used[1] = 300 * MiB;
    struct grey_slot *a = slot(4), *dead = slot(5), *gone = slot(6);
    a->state = GREY_SLOT_ACTIVE;
    a->pid = 101;
    memset(a->command, 'x', sizeof a->command); /* no NUL at all */
    a->command[0] = '\n';
    a->command[1] = '\033';
    a->dev[1].used = 300 * MiB;
    a->dev[1].peak = 400 * MiB;
    a->dev[1].cap = 512 * MiB;
    a->launches = 7;
    dead->state = GREY_SLOT_ACTIVE;
    dead->pid = 102;
    dead->dev[1].used = 5 * MiB;
    gone->state = 77; /* not a state: skipped */
    gone->pid = 103;
    char err[256];
    cr_assert_eq(grey_view_from_image(image, sizeof image, only_odd_pids_alive, NULL, 0, &view, err, sizeof err), 0, "%s", err);
    cr_assert_eq(view.nprocs, 1);
    cr_assert_eq(view.proc[0].pid, 101);
    cr_assert_eq(strlen(view.proc[0].command), GREY_COMMAND_MAX, "cut at the field");
    cr_assert_eq(view.proc[0].command[0], '?', "control characters never reach a terminal");
    cr_assert_eq(view.proc[0].command[1], '?');
    cr_assert_eq(view.proc[0].devices, GREY_DEVBIT(1));
    cr_assert_eq(view.proc[0].dev[1].peak, 400 * MiB);
    cr_assert_eq(view.stale, 1, "the dead process is counted apart");
    cr_assert_eq(view.stale_bytes, 5 * MiB);
    cr_assert_eq(view.devices, GREY_DEVBIT(1), "only the device with a budget or bytes is shown");
    cr_assert_eq(view.budget[1], 1024 * MiB);
}

Test(ledger_view, refuses_what_validation_refuses)
{
    fresh_image();
    char err[256];
    cr_assert_eq(grey_view_from_image(image, 100, NULL, NULL, 0, &view, err, sizeof err), -1);
    cr_assert(strstr(err, "truncated"), "%s", err);
    ((struct grey_ledger_header *)image)->version = 1;
    cr_assert_eq(grey_view_from_image(image, sizeof image, NULL, NULL, 0, &view, err, sizeof err), -1);
    cr_assert(strstr(err, "layout version 1"), "%s", err);
}

Test(ledger_view, metrics_escape_labels_and_skip_what_is_unset)
{
    fresh_image();
    struct grey_slot *a = slot(0);
    a->state = GREY_SLOT_ACTIVE;
    a->pid = 42;
    snprintf(a->command, sizeof a->command, "say \"hi\" \\ now");
    a->devices_used = 1;
    a->dev[0].used = 3;
    a->dev[0].cap = UINT64_MAX;
    struct grey_ledger_header *h = (struct grey_ledger_header *)image;
    h->gpu[0].state = GREY_GPU_ROW_READY;
    h->gpu[0].index = 2;
    snprintf(h->gpu[0].uuid, sizeof h->gpu[0].uuid, "GPU-12345678-1234-1234-1234-123456789abc");
    snprintf(h->gpu[0].pci_bus_id, sizeof h->gpu[0].pci_bus_id, "0000:2a:00.0");
    snprintf(h->gpu[0].name, sizeof h->gpu[0].name, "Test \"GPU\"");
    char err[256];
    cr_assert_eq(grey_view_from_image(image, sizeof image, NULL, NULL, 0, &view, err, sizeof err), 0, "%s", err);
    snprintf(view.proc[0].user, sizeof view.proc[0].user, "al\"ice");
    view.proc[0].run_id = 0xab12;
    view.proc[0].batch_job_id = 777;
    char *text = NULL;
    size_t len = 0;

    /* The defaults: no per-process series, the job's instead; DCGM's GPU labels. */
    struct grey_metrics_options opt = {.hostname = "node\"1"};
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(grey_metrics_write(f, &view, &opt), 0);
    fclose(f);
    const char *gpu = "gpu=\"2\",UUID=\"GPU-12345678-1234-1234-1234-123456789abc\",pci_bus_id=\"00000000:2A:00.0\","
                      "device=\"nvidia2\",modelName=\"Test \\\"GPU\\\"\",Hostname=\"node\\\"1\"";
    char want[1024];
    snprintf(want, sizeof want, "grey_job_vram_used_bytes{grey_run_id=\"ab12\",slurm_job_id=\"777\",%s} 3\n", gpu);
    cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
    snprintf(want, sizeof want, "grey_device_vram_used_bytes{%s} ", gpu);
    cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
    cr_assert_null(strstr(text, "grey_process_"), "per-process series are off by default");
    cr_assert_null(strstr(text, "say"), "the command is not served by default");
    cr_assert(strstr(text, "grey_build_info{version=\"" GREY_VERSION "\"} 1\n"));
    cr_assert_null(strstr(text, "grey_device_vram_budget_bytes{"), "no budget, no sample");
    cr_assert(strstr(text, "grey_processes 1\n"));
    free(text);

    /* Per-process series: a pid, the run id and the program's basename, never the arguments. */
    opt.per_process = opt.process_names = true;
    text = NULL;
    f = open_memstream(&text, &len);
    cr_assert_eq(grey_metrics_write(f, &view, &opt), 0);
    fclose(f);
    snprintf(want, sizeof want, "grey_process_vram_used_bytes{pid=\"42\",grey_run_id=\"ab12\",program=\"say\",%s} 3\n",
             gpu);
    cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
    cr_assert_null(strstr(text, "hi\\\""), "the arguments are never served");
    cr_assert_null(strstr(text, "user="), "nor the user");
    cr_assert_null(strstr(text, "grey_process_vram_cap_bytes{"), "no cap, no sample");
    cr_assert(strstr(text, "# TYPE grey_process_kernel_launches_total counter\n"));
    free(text);
}

Test(ledger_view, load_reclaims_dead_processes_when_it_may)
{
    char path[] = "/tmp/grey-test-view-XXXXXX", err[512];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);
    struct grey_ledger lg;
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0, "%s", err);
    struct grey_slot *s = &lg.slots[3];
    s->pid = 0x3ffffff0; /* nobody holds its lock: dead */
    s->start_time = 1;
    atomic_store(&s->dev[0].used, 9 * MiB);
    atomic_store(&lg.header->device_used[0], 9 * MiB);
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    cr_assert_eq(grey_view_load(path, false, &view, err, sizeof err), 0, "%s", err);
    cr_assert_eq(view.stale, 1, "without reclaim: shown as stale");
    cr_assert_eq(view.used[0], 9 * MiB);
    cr_assert_eq(grey_view_load(path, true, &view, err, sizeof err), 0, "%s", err);
    cr_assert_eq(view.stale, 0);
    cr_assert_eq(view.used[0], 0, "the reading gave the dead process's bytes back");
    cr_assert_eq(view.reclaimed_slots, 1);
    grey_ledger_close(&lg);
    unlink(path);
    cr_assert_eq(grey_view_load(path, true, &view, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot open"), "%s", err);
}
