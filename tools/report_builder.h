/* What the parts of the report's builder share (report_build.c builds the whole, report_waste.c
 * the waste patterns): the processes being reported, the symbolizer, and a buffer as JSON. Not
 * for use outside the builder. */
#ifndef GREY_REPORT_BUILDER_H
#define GREY_REPORT_BUILDER_H

#include <cJSON.h>

#include "policy/dedup.h"
#include "policy/waste.h"
#include "symbolize.h"

/* How many buffers a list of the report names (its count and bytes cover all of them). */
#define GREY_REPORT_LIST_MAX 50

struct grey_report_builder {
    const struct grey_raw_process *procs;
    size_t nprocs;
    struct grey_symbolizer *sym;
};

/* Seconds since p's hook loaded. */
double grey_report_rel_s(const struct grey_raw_process *p, uint64_t ns);
/* Site id of process p as JSON: id and symbolized frames. */
cJSON *grey_report_site_json(struct grey_report_builder *b, const struct grey_raw_process *p, uint32_t id);
/* The buffer's JSON object (README, "The buffer report": pid, address, ..., site). */
cJSON *grey_report_buffer_json(struct grey_report_builder *b, struct grey_buf_ref ref);
/* Hands the frames of ref's call site to the symbolizer (before it resolves). */
void grey_report_add_buffer_frames(struct grey_report_builder *b, struct grey_buf_ref ref);

/* The waste patterns: frames first, then the "waste" and "optimal_peak" members of root. */
void grey_report_waste_frames(struct grey_report_builder *b, const struct grey_waste_result *w);
void grey_report_add_waste(struct grey_report_builder *b, cJSON *root, const struct grey_waste_result *w,
                           const struct grey_dedup_options *opt);

/* The "timeline" member: every buffer recorded, with its call site and duplicate group, for
 * the memory-over-time picture and the exports (report_timeline.c). */
void grey_report_add_timeline(struct grey_report_builder *b, cJSON *root, const struct grey_dedup_result *r);

#endif
