/* What the buffer tracker records in this process, from the environment (read once):
 *
 *   GREY_TRACK_SITES=0     no call sites (default: on)
 *   GREY_STACK_DEPTH=N     frames per call site, 1..32 (default: GREY_DEFAULT_STACK_DEPTH, or
 *                          GREY_RECORD_STACK_DEPTH in a recording process)
 *   GREY_DEDUP=1           fingerprints and use tracking, for the duplicate report
 *   GREY_REPORT_DIR=DIR    write the raw record there at exit (grey-run --dedup/--report sets it)
 *   GREY_DEDUP_INTERVAL=S  periodic snapshots every S seconds with GREY_DEDUP (0: none; default 60)
 *
 * Without GREY_DEDUP or GREY_REPORT_DIR the tracker only keeps what it keeps anyway (addresses,
 * sizes, sites, times) in memory: no thread, no file, no snapshot. */
#ifndef GREY_TRACK_CONFIG_H
#define GREY_TRACK_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../policy/ticks.h"

/* Chosen from make bench-sites (README, "Numbers"). Each frame costs ~6 ns on top of ~60 ns for
 * unw_backtrace itself and ~30 ns for grey's own frames it walks first: 4 frames keep a plain
 * alloc/free pair within its 200 ns goal. A process that records a report (the user asked for
 * it, and pays for fingerprints anyway) takes 16, deep enough to get past a runtime's or a
 * framework's allocator into the program's own code. */
#define GREY_DEFAULT_STACK_DEPTH 4
#define GREY_RECORD_STACK_DEPTH 16
#define GREY_DEFAULT_DEDUP_INTERVAL_S 60

struct grey_track_config {
    bool sites;
    unsigned depth;
    bool dedup;
    bool record;              /* write a raw record at exit (GREY_DEDUP or GREY_REPORT_DIR) */
    char record_dir[512];     /* GREY_REPORT_DIR, "" for the per-user report directory */
    unsigned interval_s;
    uint64_t run_id;          /* GREY_RUN_ID: under grey-run, which then speaks to the user */
    struct grey_tick_ref t0;  /* when the hook loaded: the start of this process's timeline */
};

extern atomic_bool grey_track_ready;
extern struct grey_track_config grey_track_cfg;
const struct grey_track_config *grey_track_config_slow(void);

static inline const struct grey_track_config *grey_track_config(void)
{
    if (__builtin_expect(atomic_load_explicit(&grey_track_ready, memory_order_acquire), 1))
        return &grey_track_cfg;
    return grey_track_config_slow();
}

/* With GREY_DEDUP on: the copy, memset and launch wrappers do their (opt-in) extra work. */
static inline bool grey_dedup_on(void) { return grey_track_config()->dedup; }

#endif
