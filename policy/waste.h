/* Waste patterns of device memory, after DrGPUM (Lin et al., "DrGPUM: Guiding Memory
 * Optimization for GPU-accelerated Applications", ASPLOS 2023), computed in the tools from the
 * raw records' launch clock (buffer_use.h, rawlog.h's use lines). Distances are counted in
 * kernel launches, so a finding means the same on a fast and on a slow GPU; each finding also
 * says the bytes held for nothing and for how long (bytes x seconds).
 *
 *   early allocation    at least early_launches launches between the allocation and first use
 *   late deallocation   at least late_launches launches between the last use and the free
 *   temporary idle      at least idle_launches launches between two consecutive uses
 *   unused allocation   never used at all (no copy, memset or kernel argument)
 *   redundant allocation  a buffer of the same size on the same device, in the same process,
 *                       was freed before this one was allocated: it could have been reused
 *   dead write          a copy or memset overwritten by another before anything used it
 *   memory leak         still allocated when the process exited
 *
 * The "optimal peak" beside the real one: the most bytes any one launch was given, the least
 * the job could have run in had every buffer lived only while a kernel used it. */
#ifndef GREY_WASTE_H
#define GREY_WASTE_H

#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "rawlog.h"

/* The thresholds are grey_dedup_options' early_launches, late_launches and idle_launches
 * (defaults GREY_WASTE_*_LAUNCHES in dedup.h; grey-report --early, --late, --gap). */

enum grey_waste_kind {
    GREY_WASTE_EARLY = 0,
    GREY_WASTE_LATE,
    GREY_WASTE_IDLE,
    GREY_WASTE_UNUSED,
    GREY_WASTE_REDUNDANT,
    GREY_WASTE_DEAD_WRITE,
    GREY_WASTE_LEAK,
    GREY_WASTE_KINDS
};

struct grey_waste_finding {
    struct grey_buf_ref ref;
    uint64_t launches;       /* the distance that made it a finding (dead writes: their count) */
    uint64_t bytes;          /* bytes wasted: the buffer's, a dead write's */
    double seconds;          /* how long they were held for nothing */
    struct grey_buf_ref other; /* redundant: the freed buffer it could have reused */
};

struct grey_waste_result {
    struct grey_waste_finding *findings[GREY_WASTE_KINDS]; /* most bytes x seconds first */
    size_t count[GREY_WASTE_KINDS];
    uint64_t bytes[GREY_WASTE_KINDS];
    double byte_seconds[GREY_WASTE_KINDS];
    int optimal_proc;            /* the process with the largest kernel peak, -1: no launch seen */
};

/* The JSON name of a kind ("early_allocation", ...). */
const char *grey_waste_kind_name(enum grey_waste_kind kind);

/* 0, or -1 when memory ran out. Buffers without a use line (recorded without GREY_DEDUP) take
 * part only in the leak and redundant patterns. */
int grey_waste_analyze(const struct grey_raw_process *procs, size_t nprocs, const struct grey_dedup_options *opt,
                       struct grey_waste_result *out);
void grey_waste_result_free(struct grey_waste_result *r);

#endif
