/* The analysis behind the buffer report, over the raw records of one or more processes
 * (rawlog.h): groups of identical buffers, the VRAM deduplication would give back, buffers the
 * program never used, buffers kept long after their last use, and the call sites at the peak.
 *
 * Identical means: the same device, the same size and the same 128-bit fingerprint
 * (fingerprint.h explains why that is the confirmation). Only fingerprints still valid are
 * used: one taken before the buffer was written again (fp_stale) says nothing about it.
 *
 * What deduplication gives back is counted by overlap in time: n identical buffers that were
 * never alive at the same moment occupy one buffer's worth of VRAM at any time, so a group frees
 * (the most members alive at once - 1) x size. */
#ifndef GREY_DEDUP_H
#define GREY_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "rawlog.h"

/* "Freed long after its last use": idle (last use to free) at least idle_min_ns and at least
 * idle_fraction of its whole life. */
#define GREY_DEDUP_IDLE_MIN_NS 1000000000ull
#define GREY_DEDUP_IDLE_FRACTION 0.5

/* The waste patterns' thresholds in kernel launches (waste.h): early allocation, late
 * deallocation and temporary idle are reported from this many launches on. 10: a training
 * step is tens to thousands of launches, so ten is well inside one step and still more than
 * the launches between a buffer's allocation and use in code that allocates where it uses. */
#define GREY_WASTE_EARLY_LAUNCHES 10
#define GREY_WASTE_LATE_LAUNCHES 10
#define GREY_WASTE_IDLE_LAUNCHES 10

struct grey_dedup_options {
    uint64_t idle_min_ns;
    double idle_fraction;
    uint64_t early_launches, late_launches, idle_launches;
};

/* A buffer: process index and buffer index in it. */
struct grey_buf_ref {
    uint32_t proc, buf;
};

struct grey_dedup_group {
    struct grey_fp fp;
    uint64_t bytes_each;
    uint32_t device;
    size_t count;           /* members: result.members[first .. first + count) */
    size_t first;
    size_t max_alive;       /* the most members alive at one moment */
    uint64_t reclaimable;   /* (max_alive - 1) x bytes_each */
};

struct grey_dedup_result {
    struct grey_dedup_group *groups;    /* most reclaimable first */
    size_t ngroups;
    struct grey_buf_ref *members;
    size_t nmembers;
    uint64_t reclaimable;               /* sum over the groups */
    size_t fingerprinted;               /* buffers with a valid fingerprint */
    struct grey_buf_ref *untouched;     /* never copied, set or passed to a kernel; largest first */
    size_t nuntouched;
    uint64_t untouched_bytes;
    struct grey_buf_ref *idle;          /* freed long after the last use; longest idle first */
    size_t nidle;
    int peak_proc;                      /* the process with the highest peak, -1 when none */
};

void grey_dedup_default_options(struct grey_dedup_options *opt);

/* 0, or -1 when memory ran out. */
int grey_dedup_analyze(const struct grey_raw_process *procs, size_t nprocs, const struct grey_dedup_options *opt,
                       struct grey_dedup_result *out);
void grey_dedup_result_free(struct grey_dedup_result *r);

/* When b stopped existing: its free, or for a buffer still live, the end of its record. */
uint64_t grey_dedup_end_ns(const struct grey_raw_process *p, const struct grey_raw_buffer *b);

/* The most of n intervals [start[i], end[i]) that contain one moment. An interval ending when
 * another starts does not overlap it. */
size_t grey_dedup_max_overlap(const uint64_t *start, const uint64_t *end, size_t n);

/* The sites of p that held bytes at its peak, most bytes first. Returns how many were stored
 * in out (at most max). */
size_t grey_dedup_peak_sites(const struct grey_raw_process *p, const struct grey_raw_site **out, size_t max);

#endif
