/* The node's table of large buffers' fingerprints: a file beside the ledger (LEDGER.fp) in which
 * every recording process of that ledger publishes the fingerprints of its largest buffers, so
 * that grey-report --node can find identical buffers held by different jobs on one GPU.
 *
 * One section per ledger slot, written only by the slot's owner (a process's section is its
 * slot's index), at snapshot time, never on the alloc/free path. A section is a seqlock: seq is
 * odd while its owner writes; a reader copies it and keeps the copy only when seq was even and
 * unchanged across the copy. Readers never trust the file: size, magic and version are checked,
 * counts are cut to the section's size, and only sections whose (pid, run) is a live process of
 * the ledger are used (the ledger's lock is the liveness; a section is never cleared).
 *
 *   header                      magic, version, sections (= the ledger's slots)
 *   section[sections]           seq, pid, run_id, published_ns, count, entries[GREY_FPT_ENTRIES]
 *   entry                       fingerprint, bytes, address, GPU row of the ledger
 *
 * The file is created by the first publisher with mode 0600 (policy/safe_file.c, O_EXCL, at
 * its full size by ftruncate), so it serves one user's jobs; on a node ledger shared by several
 * users each user's processes publish only if they can open it (README, "The buffer report"). */
#ifndef GREY_FP_TABLE_H
#define GREY_FP_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

#define GREY_FPT_MAGIC 0x3154504659455247ull /* "GREYFPT1" */
#define GREY_FPT_VERSION 1
#define GREY_FPT_ENTRIES 64                  /* the largest buffers of a process */
#define GREY_FPT_MIN_BYTES (1ull << 20)      /* smaller ones are not worth sharing across jobs */
#define GREY_FPT_MAX_SECTIONS 65536

struct grey_fpt_entry {
    struct grey_fp fp;
    uint64_t bytes, addr;
    uint32_t row;      /* the buffer's GPU row in the ledger */
    uint32_t reserved;
};

struct grey_fpt_section {
    _Atomic uint64_t seq;
    int32_t pid;
    uint32_t count;
    uint64_t run_id;
    uint64_t published_ns;   /* CLOCK_MONOTONIC */
    struct grey_fpt_entry entries[GREY_FPT_ENTRIES];
};

struct grey_fpt_header {
    uint64_t magic;
    uint32_t version, sections;
    uint64_t reserved[6];    /* the header is one cache line */
};

/* The file's size for a ledger of nslots slots. */
static inline size_t grey_fpt_size(uint32_t nslots)
{
    return sizeof(struct grey_fpt_header) + (size_t)nslots * sizeof(struct grey_fpt_section);
}

/* LEDGER_PATH.fp in out; false when it does not fit. */
bool grey_fpt_path(const char *ledger_path, char *out, size_t len);

/* Writing one's own section (the hook): entries[0..count) replace what it held. */
void grey_fpt_publish(struct grey_fpt_section *s, int32_t pid, uint64_t run_id, uint64_t now_ns,
                      const struct grey_fpt_entry *entries, uint32_t count);

/* Reading a section consistently from a mapping or a copy of it: false when it was being written
 * (or never was). */
bool grey_fpt_read_section(const struct grey_fpt_section *s, struct grey_fpt_section *out);

/* Checks a file's bytes (size len) as a table: NULL, or the reason. */
const char *grey_fpt_check(const void *file, size_t len);

#endif
