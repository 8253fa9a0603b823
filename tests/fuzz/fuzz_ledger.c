/* libFuzzer target: anything a ledger file or mapping can hold must be refused or walked without
 * a crash, an out-of-bounds access or undefined behaviour.
 *
 * Each input is used twice:
 *   1. as a whole file: grey_ledger_validate, then (if it passes) the tools' walk of every slot
 *      (grey_view_from_image) and the Prometheus writer;
 *   2. laid over a valid header, from the device budgets on: so short inputs reach the slots,
 *      and the walk, the metrics, a reclaim scan, a claim, admissions and a retire all run on
 *      hostile slot contents (states, pids, locks and counters a broken or malicious process
 *      could leave behind). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/quota.h"
#include "tools/ledger_view.h"
#include "tools/metrics.h"

static uint64_t image[(GREY_LEDGER_TOTAL_SIZE + 7) / 8]; /* aligned for the atomics */
static struct grey_view view;
static FILE *sink;

static void walk(size_t size)
{
    char err[256];
    if (grey_view_from_image(image, size, NULL, NULL, 0, &view, err, sizeof err) != 0)
        return;
    for (unsigned i = 0; i < view.nprocs; i++)
        if (strlen(view.proc[i].command) > GREY_COMMAND_MAX)
            __builtin_trap(); /* the view promised a bounded command */
    grey_metrics_write(sink, &view, NULL);
}

/* A valid, empty ledger header, as grey_ledger_open would write it. */
static void valid_header(void)
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
}

/* The slots' locks live on a file, not in the image: a scratch file nobody else locks, so every
 * slot of the input is a dead owner's. */
static int lock_fd(void)
{
    static int fd = -1;
    if (fd < 0) {
        char path[] = "/tmp/grey-fuzz-locks-XXXXXX";
        fd = mkstemp(path);
        unlink(path);
    }
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");

    /* 1. The input as the whole file. */
    size_t n = size < sizeof image ? size : sizeof image;
    memcpy(image, data, n);
    walk(n);

    /* 2. The input over a valid header's counters and the slots. */
    valid_header();
    size_t at = offsetof(struct grey_ledger_header, device_budget);
    n = size < sizeof image - at ? size : sizeof image - at;
    memcpy((char *)image + at, data, n);
    walk(GREY_LEDGER_TOTAL_SIZE);

    struct grey_ledger lg = {
        .header = (struct grey_ledger_header *)image,
        .slots = (struct grey_slot *)((char *)image + sizeof(struct grey_ledger_header)),
        .nslots = GREY_LEDGER_SLOTS,
        .map_size = GREY_LEDGER_TOTAL_SIZE,
        .writable = true,
        .fd = lock_fd(),
        .own = -1,
        .own_run = -1,
    };
    char err[256];
    if (grey_ledger_validate(image, GREY_LEDGER_TOTAL_SIZE, err, sizeof err) != 0)
        __builtin_trap(); /* the counters and slots are not what validation looks at */
    grey_ledger_reclaim(&lg);
    /* A fake start time: never mistaken for this process's own slot from before an exec. */
    struct grey_slot *s = grey_ledger_claim(&lg, getpid(), 1, 0, 0, 0, "fuzz");
    if (s) {
        struct grey_quota q = {.slot = s, .budgets = lg.header};
        for (int d = 0; d < GREY_MAX_DEVICES; d += 5) {
            if (quota_reserve(&q, d, 4096) == GREY_ADMITTED)
                quota_commit(&q, d);
            uint64_t f, t;
            quota_view(&q, d, 1 << 20, 1 << 30, &f, &t);
        }
        grey_slot_retire(&lg, s);
    }
    /* A GPU row claimed among hostile rows: found, claimed, or refused, never out of bounds. */
    struct grey_gpu_id id = {.uuid = "GPU-12345678-1234-1234-1234-123456789abc", .index = 3};
    int row = grey_ledger_gpu_claim(&lg, &id);
    if (row >= GREY_MAX_DEVICES)
        __builtin_trap();
    walk(GREY_LEDGER_TOTAL_SIZE);
    return 0;
}
