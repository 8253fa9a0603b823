/* Which GPU a device is. Processes see subsets of a node's GPUs under numbers of their own
 * (CUDA_VISIBLE_DEVICES, containers, MIG), so grey names a GPU by what survives all of that: its
 * UUID ("GPU-8f3a…", or "MIG-…" for a MIG instance, which is a device of its own), with its PCI
 * bus id and its physical index (the order NVML and nvidia-smi use) beside it.
 *
 * The ledger's GPU table (struct grey_ledger_header.gpu, policy/ledger.h) gives each GPU that any
 * process of the ledger used one row; every per-device counter, budget and fair-share line is
 * indexed by row. Rows are claimed in ascending order, one claimer at a time per row, and never
 * move: two processes meeting the same GPU for the first time at once get the same row. */
#ifndef GREY_LEDGER_GPU_H
#define GREY_LEDGER_GPU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GREY_UUID_MAX 48      /* "MIG-GPU-<36>/<gi>/<ci>" at most, NUL included */
#define GREY_PCI_ID_MAX 16    /* "0000:17:00.0" */
#define GREY_GPU_NAME_MAX 40

/* What a process learnt of one GPU (from the driver, NVML or sysfs). "" and -1: not known. */
struct grey_gpu_id {
    char uuid[GREY_UUID_MAX];
    char pci_bus_id[GREY_PCI_ID_MAX];
    int32_t index;
    char name[GREY_GPU_NAME_MAX];
    uint64_t total_bytes;
};

enum { GREY_GPU_ROW_FREE = 0, GREY_GPU_ROW_CLAIMING = 1, GREY_GPU_ROW_READY = 2 };

/* One row of the GPU table: two cache lines. Fields other than state are written once, by the
 * row's claimer, before it publishes READY. */
struct grey_ledger_gpu {
    _Atomic uint32_t state;
    int32_t index;
    uint64_t total_bytes;
    char uuid[GREY_UUID_MAX];
    char pci_bus_id[GREY_PCI_ID_MAX];
    char name[GREY_GPU_NAME_MAX];
    uint64_t reserved;
};

/* Copies src into dst (size bytes), cut to fit and NUL-terminated: names are informational. */
void grey_copy_cut(char *dst, size_t size, const char *src);

/* The row of rows[0..nrows) that is the GPU id names (by UUID, or by PCI bus id for a whole GPU:
 * one board, whatever its runtime calls it), claiming the first free row when none is: -1 when
 * id has neither a UUID nor a PCI bus id, or the table is full. lock_fd, when >= 0, is the ledger's file
 * descriptor and row_offset(r) the file offset of row r: a claimer holds a lock on the row while
 * it fills it, so one killed half-way is seen dead and the row taken over; -1 for a table only
 * this process uses. Threads of one process share the lock's description: callers serialize
 * their claims. */
int grey_gpu_row(struct grey_ledger_gpu *rows, unsigned nrows, const struct grey_gpu_id *id, int lock_fd,
                 uint64_t (*row_offset)(unsigned r));

/* The READY row whose UUID is uuid, or -1. Only loads: for readers of a copy. */
int grey_gpu_row_find(const struct grey_ledger_gpu *rows, unsigned nrows, const char *uuid);

/* The identity a READY row holds. */
void grey_gpu_row_id(const struct grey_ledger_gpu *row, struct grey_gpu_id *out);

/* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (prefix "MIG-" for a MIG instance) from the 16
 * bytes a driver reports. out has GREY_UUID_MAX bytes. */
void grey_uuid_format(const unsigned char bytes[16], bool mig, char *out);

/* True for text that names a GPU the way CUDA_VISIBLE_DEVICES, nvidia-smi and plans do:
 * "GPU-" or "MIG-" and a UUID, or the older "MIG-GPU-<uuid>/<gi>/<ci>"; or as ROCm does, "GPU-"
 * and 16 hex digits. */
bool grey_uuid_valid(const char *text);

/* How messages and tables name a GPU: "GPU 2 (GPU-6e73e372)", its physical index and the start
 * of its UUID; "GPU-6e73e372" when the index is unknown; "a GPU without a UUID". Returns buf. */
const char *grey_gpu_label(const struct grey_gpu_id *id, char *buf, size_t len);

/* Two UUIDs name the same GPU (compared without regard to case). */
bool grey_uuid_equal(const char *a, const char *b);

/* A PCI bus id as "dddd:bb:dd.f", lowercase, whatever domain width it came with (NVML writes
 * "00000000:17:00.0", CUDA "0000:17:00.0"). 0, or -1 when text is no bus id (out is then ""). */
int grey_pci_normalize(const char *text, char out[GREY_PCI_ID_MAX]);

#endif
