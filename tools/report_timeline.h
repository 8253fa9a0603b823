/* Reading the report's "timeline" (report_timeline.c) back: its buffer rows and the call sites
 * they name, for the renderers and exporters that work from a report alone. */
#ifndef GREY_REPORT_TIMELINE_H
#define GREY_REPORT_TIMELINE_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct grey_timeline_buffer {
    int pid;
    uint64_t address, bytes;
    int device;
    const char *api;
    double alloc_s, free_s;   /* on the job's clock (the process's offset added) */
    bool live;                /* never freed: free_s is its process's end */
    uint32_t site;
    uint32_t group;           /* 1-based duplicate group, 0: none */
};

struct grey_timeline_site_ref {
    int pid;
    uint32_t id;
    const cJSON *site;
};

struct grey_timeline {
    struct grey_timeline_buffer *buffers; /* in the report's order */
    size_t n;
    struct grey_timeline_site_ref *sites; /* the timeline's sites, sorted by (pid, id) */
    size_t nsites;
    double end_s;                         /* the last process's end */
};

/* false when the report has no timeline (one written before it existed) or memory ran out. */
bool grey_timeline_read(const cJSON *report, struct grey_timeline *out);
void grey_timeline_free(struct grey_timeline *t);

/* The site object of pid's site id, or NULL (a binary search: exporters ask once per buffer). */
const cJSON *grey_timeline_site(const struct grey_timeline *t, int pid, uint32_t id);

#endif
