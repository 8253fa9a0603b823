/* The raw buffer record: what one hooked process writes at exit (or when grey-report --live asks
 * it), and what the tools read back to build the report.
 *
 * Like heaptrack, the process only records; grouping duplicates, finding the peak's call sites
 * and symbolizing happen later in the tools. The file is line-oriented text, one record per line,
 * so a human can read it and a truncated file is detected (the last line is "end"):
 *
 *   grey-raw 1
 *   pid 4242
 *   run 1a2b3c                                 grey-run's id, 0 without grey-run
 *   exe /path/to/program                       (rest of the line)
 *   reason exit                                exit | live
 *   times START_NS END_NS                      CLOCK_MONOTONIC: hook loaded, file written
 *   config dedup=1 sites=1 depth=8
 *   peak NS BYTES                              the most bytes live at once, and when
 *   launches N KPEAK_BYTES KPEAK_LAUNCH KPEAK_NS  launches seen; the most bytes one launch was
 *                                              given, which launch and when (optional)
 *   snapshot SOURCE NS BUFFERS BYTES FAILED    one line per snapshot taken
 *   module ID PATH                             ids 0, 1, 2, ... in order
 *   site ID LIVE_B LIVE_N PEAK_B PEAK_N ALLOCS ALLOC_B DEPTH MOD:OFFSET...
 *                                              MOD -1: OFFSET is an address in no module
 *   buf live|freed KIND API ADDR BYTES DEVICE SITE ALLOC_NS FREE_NS TOUCHED LAST_NS FP SOURCE FP_NS STALE
 *                                              KIND ptr | handle | context; FP 32 hex or -
 *   use ALLOC_L FREE_L FIRST_L LAST_L USES FIRST_NS GAP_L GAP_NS DEAD_WRITES DEAD_BYTES
 *                                              the buf line before it on the launch clock
 *                                              (buffer_use.h); optional, written with dedup=1
 *   dropped freed=N sites=N kernel_args=N
 *   end
 *
 * Every time is CLOCK_MONOTONIC nanoseconds (0: never), so records of several processes on one
 * machine can be compared. */
#ifndef GREY_RAWLOG_H
#define GREY_RAWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"
#include "sites.h"

#define GREY_RAW_VERSION 1
/* What a reader accepts: a record larger than this, or with a longer line, is refused (a hooked
 * process writes one line per buffer and site, far below either; anything bigger is not ours). */
#define GREY_RAW_MAX_BYTES (256u << 20)
#define GREY_RAW_MAX_LINE 65536

enum grey_raw_kind {
    GREY_RAW_PTR = 0,      /* a device pointer: its contents can be read back and compared */
    GREY_RAW_HANDLE,       /* an array or a VMM handle: counted, but not addressable */
    GREY_RAW_CONTEXT,      /* a context's own memory */
};

struct grey_raw_frame {
    int32_t module;        /* index into modules, -1 for none */
    uint64_t offset;       /* return address minus the module's load bias */
};

struct grey_raw_site {
    uint32_t id;
    unsigned depth;
    struct grey_raw_frame frames[GREY_SITE_MAX_DEPTH];
    uint64_t live_bytes, live_count, peak_bytes, peak_count, allocs, alloc_bytes;
};

/* A buffer on the launch clock (the use line; launch counts as in buffer_use.h, times in ns). */
struct grey_raw_use {
    uint64_t alloc_launch, free_launch, first_launch, last_launch, uses;
    uint64_t first_ns, gap_launches, gap_ns, dead_writes, dead_bytes;
};

struct grey_raw_buffer {
    bool live;             /* still allocated when the record was written */
    uint8_t kind;          /* enum grey_raw_kind */
    char api[40];          /* the allocating function, e.g. "cuMemAlloc" */
    uint64_t addr, bytes;
    uint32_t device, site, touched, fp_source;
    uint64_t alloc_ns, free_ns, last_use_ns, fp_ns;
    bool has_fp, fp_stale;
    struct grey_fp fp;
    bool has_use;          /* a use line followed */
    struct grey_raw_use use;
};

struct grey_raw_snapshot {
    uint32_t source;       /* enum grey_fp_source */
    uint64_t ns, buffers, bytes, failed;
};

struct grey_raw_header {
    int pid;
    uint64_t run_id;
    char exe[1024];
    char reason[16];
    uint64_t start_ns, end_ns;
    bool dedup, sites;
    unsigned depth;
    uint64_t peak_ns, peak_bytes;
    bool has_launches;     /* a launches line was there */
    uint64_t launches, kernel_peak_bytes, kernel_peak_launch, kernel_peak_ns;
};

struct grey_raw_counts {
    uint64_t freed_dropped, sites_dropped, kernel_args_unknown;
};

/* ------------------------------------------------------------------ writing (in the hook) */

/* Formats into a fixed buffer and writes with write(2): no stdio, no malloc, so it is safe at
 * exit and in a process whose allocator state is unknown. */
struct grey_raw_writer {
    int fd;
    bool failed;
    size_t used;
    char buf[16384];
};

void grey_raw_writer_init(struct grey_raw_writer *w, int fd);
void grey_raw_write_header(struct grey_raw_writer *w, const struct grey_raw_header *h);
void grey_raw_write_snapshot(struct grey_raw_writer *w, const struct grey_raw_snapshot *s);
void grey_raw_write_module(struct grey_raw_writer *w, uint32_t id, const char *path);
void grey_raw_write_site(struct grey_raw_writer *w, const struct grey_raw_site *s);
/* Writes the buf line, and its use line when b->has_use. */
void grey_raw_write_buffer(struct grey_raw_writer *w, const struct grey_raw_buffer *b);
/* Writes the counts and the end line, flushes. 0, or -1 when any write failed. */
int grey_raw_write_end(struct grey_raw_writer *w, const struct grey_raw_counts *c);

const char *grey_fp_source_name(uint32_t source);
const char *grey_raw_kind_name(uint8_t kind);

/* ------------------------------------------------------------------ reading (in the tools) */

struct grey_raw_process {
    struct grey_raw_header hdr;
    char **modules;
    size_t nmodules;
    struct grey_raw_site *sites;          /* sorted by id */
    size_t nsites;
    struct grey_raw_buffer *buffers;
    size_t nbuffers;
    struct grey_raw_snapshot *snapshots;
    size_t nsnapshots;
    struct grey_raw_counts counts;
};

/* Reads a raw file. 0, or -1 with "PATH:LINE: what is wrong" in err. */
int grey_raw_read(const char *path, struct grey_raw_process *out, char *err, size_t errlen);
void grey_raw_free(struct grey_raw_process *p);

/* True when the file at path starts like a raw record (a cheap test for the tools). */
bool grey_raw_sniff(const char *path);

/* Site id of process p, or NULL. */
const struct grey_raw_site *grey_raw_site(const struct grey_raw_process *p, uint32_t id);

#endif
