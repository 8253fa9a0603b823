/* The executable graphs grey keeps a record for (those with memory nodes: shim/cuda_graph.c),
 * keyed by the vendor's exec handle. Vendor-neutral: a record embeds a struct grey_graph_entry
 * and says how it is freed.
 *
 * Launches look records up without a lock, while other threads instantiate and destroy graphs.
 * So that a record is never freed under a launch that found it:
 *
 *   - the table is a chained hash with a fixed number of buckets: a lookup walks the records
 *     whose handles share its bucket, however many graphs came and went before (no tombstones);
 *   - a lookup runs inside a read section (two phase counters: an atomic add on entry and on
 *     exit, no lock, no syscall) and takes a reference on the record it found;
 *   - a writer (instantiate, destroy: one mutex) unlinks a record, then waits until every read
 *     section that began before the unlink has ended (a few instructions long: lookups never
 *     block), then drops the table's reference. Whoever drops the last one frees the record:
 *     the writer, or a launch of that very graph still in flight.
 *
 *   struct grey_graph_entry *e = grey_graph_get(key);   // NULL: no record
 *   if (e) { ...use the record...; grey_graph_put(e); }
 *
 * When no record exists at all (most programs, or graphs without memory nodes only) a lookup is
 * one relaxed load. */
#ifndef GREY_GRAPH_TABLE_H
#define GREY_GRAPH_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct grey_graph_entry {
    uintptr_t key;                         /* the exec handle; immutable once published */
    _Atomic unsigned refs;                 /* the table's one, and one per launch holding it */
    struct grey_graph_entry *_Atomic next; /* the bucket's chain */
    void (*destroy)(struct grey_graph_entry *e); /* frees the whole record */
};

/* Publishes e under key (e->destroy set by the caller), replacing any record key already had
 * (a recycled handle must not keep an old graph's record). */
void grey_graph_insert(struct grey_graph_entry *e, uintptr_t key);
/* Drops key's record, if any; it is freed once no launch holds it. */
void grey_graph_remove(uintptr_t key);

/* key's record with a reference taken, or NULL. */
struct grey_graph_entry *grey_graph_get(uintptr_t key);
/* Gives the reference back (frees the record when it was the last). */
void grey_graph_put(struct grey_graph_entry *e);

/* Structure, for GREY_LOG and tests: records inserted so far, the most ever live at once, and
 * the longest chain any insert made (no lookup walks more records than that). */
struct grey_graph_stats {
    uint64_t inserted;
    unsigned live, max_live, max_chain;
};
void grey_graph_stats(struct grey_graph_stats *out);
/* The same as one GREY_LOG line, at exit, when the process made any record. */
void grey_graph_log_stats(void);

/* Fork handlers: no writer is mid-change across a fork, and the child, whose other threads are
 * gone, does not wait for their read sections. */
void grey_graph_fork_prepare(void);
void grey_graph_fork_parent(void);
void grey_graph_fork_child(void);

#endif
