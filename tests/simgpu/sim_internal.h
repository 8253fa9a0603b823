/* Shared internals of the simulated CUDA driver (build/sim/libcuda.so.1).
 *
 * The simulator runs the CUDA driver API on host memory so that grey's hook and its tests run on
 * machines without a GPU. Every file includes this header first.
 *
 * __CUDA_API_VERSION_INTERNAL makes cuda.h declare every exported name as itself (cuMemAlloc_v2,
 * cuMemAlloc, cuLaunchKernel_ptsz, ...) instead of remapping the plain names to the newest
 * version, which is what a driver implementation needs: it defines all of them.
 *
 * Everything declared between the visibility pragmas is internal. The objects are compiled
 * without -fvisibility=hidden, so only the cu* entry points (defined outside these pragmas)
 * reach the dynamic symbol table; nothing of ours can clash with the host program. */
#ifndef GREY_SIM_INTERNAL_H
#define GREY_SIM_INTERNAL_H

#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_trace.h"

#pragma GCC visibility push(hidden)

/* ------------------------------------------------------------------ devices (sim_device.c) */
#define SIM_MAX_DEVICES 16
#define SIM_NAME_MAX    256

/* What the process sees as device ordinal N: the physical device behind it (a GPU or a MIG
 * instance, sim_node.h; CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER choose which) and its facts.
 * Its used memory is not here: the physical device's memory is shared by every process on the
 * machine (sim_usage.h). */
typedef struct sim_device {
    int phys;
    char name[SIM_NAME_MAX];
    uint64_t vram_bytes;          /* GREY_SIM_VRAM / GREY_SIM_VRAM_<N>, or GREY_SIM_MIG_VRAM */
    int sms;                      /* GREY_SIM_SMS / GREY_SIM_SMS_<N> */
    int clock_khz;
    int cc_major, cc_minor;       /* GREY_SIM_CC */
} sim_device;

extern sim_device sim_devices[SIM_MAX_DEVICES];
extern int sim_device_count;

/* CUDA_SUCCESS once cuInit succeeded, else CUDA_ERROR_NOT_INITIALIZED. Every API that the real
 * driver refuses before cuInit starts with this. */
CUresult sim_check_init(void);
/* CUDA_ERROR_INVALID_DEVICE unless 0 <= dev < device count (and initialized). */
CUresult sim_check_device(CUdevice dev);

/* ------------------------------------------------------------------ contexts (sim_context.c) */
#define SIM_CTX_MAGIC 0x47524559435458ULL /* "GREYCTX" */

/* A stream's timeline: the time (CLOCK_MONOTONIC, ns) at which the last work queued on it
 * completes (its last kernel's end on the shared device timeline, see sim_timeline.c). */
typedef struct sim_timeline {
    _Atomic uint64_t tail_ns;
} sim_timeline;

struct CUctx_st {
    uint64_t magic;
    CUdevice dev;
    int phys;                    /* the physical device behind dev: whose timeline kernels join */
    unsigned int flags;
    bool primary;
    atomic_bool alive;           /* false once destroyed, or for an inactive primary context */
    int primary_refs;            /* cuDevicePrimaryCtxRetain count; guarded by sim_ctx_lock */
    sim_timeline legacy_stream;  /* the NULL / CU_STREAM_LEGACY stream */
    _Atomic uint64_t last_done_ns; /* latest completion time of any work in this context */
};

/* Current context of the calling thread, or NULL. */
CUcontext sim_ctx_current(void);
/* Puts the current live context in *ctx, or returns CUDA_ERROR_INVALID_CONTEXT (none current)
 * / CUDA_ERROR_CONTEXT_IS_DESTROYED. Also checks cuInit. */
CUresult sim_ctx_require(CUcontext *ctx);
/* Validates a context handle passed by the caller. */
CUresult sim_ctx_check(CUcontext ctx);

/* ------------------------------------------------------------------ memory (sim_memory.c) */
/* Device memory for every allocation family (pitch, arrays, VMM, pools, managed): bytes are
 * accounted against the current context's device like cuMemAlloc and the range is registered,
 * so copies and cuMemGetAddressRange work on it. Errors as cuMemAlloc's. */
CUresult sim_mem_alloc_device(uintptr_t *out, size_t bytesize);
/* The same below 4 GiB, for the CUDA 2.x forms whose device pointers are 32 bits. */
CUresult sim_mem_alloc_device_low32(uintptr_t *out, size_t bytesize);
/* Frees what sim_mem_alloc_device returned; CUDA_ERROR_INVALID_VALUE for anything else. */
CUresult sim_mem_free_device(uintptr_t ptr);
/* Counts n bytes against the VRAM of device dev's physical device (false when they do not fit),
 * and gives them back: for memory that is not an ordinary registered allocation (VMM physical
 * memory, pools, graph memory). */
bool sim_vram_reserve(CUdevice dev, uint64_t n);
void sim_vram_release(CUdevice dev, uint64_t n);
/* Frees every allocation of ctx (cuCtxDestroy, primary context release/reset). */
void sim_mem_release_context(CUcontext ctx);

/* How sim_mem_check treats an address that is in no allocation. */
typedef enum sim_mem_need {
    SIM_MEM_DEVICE,     /* must lie in device memory (cuMemAlloc) or pinned host memory */
    SIM_MEM_ANY,        /* unified addressing: unknown addresses are ordinary host memory */
} sim_mem_need;

/* CUDA_SUCCESS when [ptr, ptr+n) lies inside one live allocation (or, for SIM_MEM_ANY, in none:
 * plain host memory); CUDA_ERROR_INVALID_VALUE otherwise. */
CUresult sim_mem_check(CUdeviceptr ptr, size_t n, sim_mem_need need);
/* The data movement of a copy and of a memset (width 1, 2 or 4 bytes, n of them): checked again
 * and done while no allocation can be unmapped (sim_memory.c), so a buffer freed by another
 * thread after the caller's first check gives CUDA_ERROR_INVALID_VALUE, never a fault. */
CUresult sim_mem_move(CUdeviceptr dst, sim_mem_need dst_need, CUdeviceptr src, sim_mem_need src_need, size_t n);
CUresult sim_mem_fill(CUdeviceptr dst, unsigned int value, size_t width, size_t n);
/* Pinned host memory in the registry (sim_memory.c), for sim_host_memory.c: allocated by the
 * simulator with its CU_MEMHOSTALLOC_* flags, or the program's own memory registered with its
 * CU_MEMHOSTREGISTER_* flags. find: the allocation containing p, its flags, which kind. */
CUresult sim_mem_host_alloc(void **pp, size_t bytesize, unsigned flags);
CUresult sim_mem_host_free(void *p);
CUresult sim_mem_host_register(void *p, size_t bytesize, unsigned flags);
CUresult sim_mem_host_unregister(void *p);
bool sim_mem_host_find(const void *p, unsigned *flags, bool *registered);
/* The allocation containing p (sim_memory.c), for cuPointerGetAttribute: false when none. */
typedef struct sim_mem_desc {
    uintptr_t base;
    size_t size;
    CUcontext ctx;
    CUdevice dev;
    bool host; /* pinned or registered host memory */
} sim_mem_desc;
bool sim_mem_describe(uintptr_t p, sim_mem_desc *out);
/* The answer of an entry point the simulator has but does not model (sim_unmodelled_*.c):
 * traced, CUDA_ERROR_NOT_SUPPORTED (sim_missing.c). */
CUresult sim_not_modelled(const char *name);
/* With GREY_SIM_STUB_MISSING=1, a self-naming stub for an entry point the simulator lacks; else
 * NULL (sim_missing.c). */
void *sim_missing_stub(const char *symbol);
/* [ptr, ptr+n) lies inside one live cuMemMap mapping (sim_vmm.c). */
bool sim_vmm_mapped_range(CUdeviceptr ptr, size_t n);
/* The live cuMemMap mapping that ptr lies in: its start and size (sim_vmm.c). */
bool sim_vmm_mapping_of(CUdeviceptr ptr, uintptr_t *base, size_t *size);

/* ------------------------------------------------------------------ handles (sim_handles.c) */
/* Live opaque handles, so that bad ones are refused rather than dereferenced. take removes h and
 * reports whether it was live (a second take of the same handle is a double free). */
void sim_handle_add(const void *h);
bool sim_handle_take(const void *h);
bool sim_handle_live(const void *h);

/* ------------------------------------------------------------------ streams (sim_stream_event.c) */
/* Resolves a stream handle to its timeline. per_thread selects what the NULL stream means (the
 * _ptsz/_ptds entry points). On entry *ctx is the current context (may be NULL: then only a
 * created stream resolves); on return it is the stream's context. Bad handles give
 * CUDA_ERROR_INVALID_HANDLE. */
CUresult sim_stream_timeline(CUstream s, bool per_thread, CUcontext *ctx, sim_timeline **tl);

/* ------------------------------------------------------------------ modules (sim_module.c) */
/* CUDA_SUCCESS for a live function handle from cuModuleGetFunction, else
 * CUDA_ERROR_INVALID_HANDLE. */
CUresult sim_function_check(CUfunction f);
/* The kernel name the function was looked up by. */
const char *sim_function_name(CUfunction f);
/* Calls each(arg, f) for every kernel the image given to cuModuleLoadData/Ex/FatBinary declares
 * (sim_fatbin.h), in the image's order, outside the module's lock; *count is how many (0 for a
 * module whose image was not read or declares none). CUDA_ERROR_INVALID_HANDLE for a bad module. */
CUresult sim_module_kernels(CUmodule mod, void (*each)(void *arg, CUfunction f), void *arg, unsigned *count);
/* How long one launch of f occupies its device: N us for a name ending in _usN, else
 * GREY_SIM_KERNEL_US (sim_default_kernel_ns). */
uint64_t sim_function_duration_ns(CUfunction f);
/* A CUkernel (sim_library.c) passed where a CUfunction is expected, as CUDA 12 allows, turned
 * into its function in the current context; anything else is returned unchanged. */
CUfunction sim_kernel_function(CUfunction f);
/* What cuFuncGetAttribute reports for every (empty) simulated kernel (sim_func_attr.c). */
CUresult sim_function_attribute(int *pi, CUfunction_attribute attrib);

/* ------------------------------------------------------------------ time (sim_timeline.c) */
/* Queues duration_ns of work on a timeline of ctx, in stream order only (copies, event
 * records); returns the time it completes. */
uint64_t sim_timeline_enqueue(CUcontext ctx, sim_timeline *tl, uint64_t duration_ns);
/* Queues a kernel of duration_ns: after the stream's earlier work and after everything already
 * queued on ctx's physical device by any process (the device timeline shared through
 * GREY_SIM_STATE); returns the time it completes. */
uint64_t sim_timeline_kernel(CUcontext ctx, sim_timeline *tl, uint64_t duration_ns);
/* GREY_SIM_KERNEL_US in ns (0 when unset: kernels complete at once). */
uint64_t sim_default_kernel_ns(void);
/* Makes later work on tl start no earlier than t_ns (cuStreamWaitEvent). */
void sim_timeline_after(sim_timeline *tl, uint64_t t_ns);
/* Blocks until the monotonic clock reaches t_ns. */
void sim_wait_until(uint64_t t_ns);
/* Stamps (what timelines, events and contexts hold: a time, or under GREY_SIM_SCHED=timeslice a
 * position in this process's queue on physical device phys, sim_sched.h). done: whether the work
 * is complete, and then its completion time in *t_ns. wait: sleeps until it is, returns the time.
 * settle: done on the stamp *stamp, replacing a reached position by its time. */
bool sim_timeline_done(int phys, uint64_t stamp, uint64_t *t_ns);
uint64_t sim_timeline_wait(int phys, uint64_t stamp);
bool sim_timeline_settle(int phys, _Atomic uint64_t *stamp, uint64_t *t_ns);
uint64_t sim_now_ns(void);

/* ------------------------------------------------------------------ graphs and capture */
/* One operation of a graph node (sim_graph.c); captured work becomes one of these. */
typedef enum sim_node_kind {
    SIM_NODE_EMPTY,
    SIM_NODE_KERNEL,   /* f, grid, block, shmem */
    SIM_NODE_MEMCPY,   /* dst, src, n bytes (unified addressing) */
    SIM_NODE_MEMSET,   /* dst, value, width (1, 2, 4), n elements */
    SIM_NODE_MEM_ALLOC, /* dst: the allocation's fixed address, n bytes (sim_graph_mem.c) */
    SIM_NODE_MEM_FREE,  /* dst: the address a graph allocation node made */
} sim_node_kind;

/* A kernel node keeps the values of its first parameters (each up to 8 bytes) so that
 * cuGraphKernelNodeGetParams can hand them back, as the driver keeps a node's arguments. */
#define SIM_NODE_ARGS 16

typedef struct sim_node_op {
    sim_node_kind kind;
    CUfunction f;
    uint64_t args[SIM_NODE_ARGS];
    unsigned nargs;
    unsigned int grid[3], block[3], shmem;
    CUdeviceptr dst, src;
    uint32_t value;
    unsigned int width;
    size_t n;
} sim_node_op;

/* sim_param_info.c: the values of f's parameters from a launch's params (each zero-extended
 * to 8 bytes; at most SIM_NODE_ARGS); 0 when f's layout is unknown or params is NULL. */
unsigned sim_kernel_args(CUfunction f, void **params, uint64_t *out);

/* sim_graph.c: an empty graph; a node appended after its dependencies (which must be nodes of
 * the same graph). out may be NULL. */
CUresult sim_graph_new(CUgraph *out);
CUresult sim_graph_append(CUgraph g, const sim_node_op *op, const CUgraphNode *deps,
                          size_t ndeps, CUgraphNode *out);

/* The operation of a live graph node, or NULL for a bad handle (sim_graph.c). */
const sim_node_op *sim_graph_node_op(CUgraphNode node);

/* sim_graph_mem.c: graph memory. An allocation node owns an address range from its creation;
 * device memory behind it is counted only between a launch that runs the node and the free
 * (a free node, or cuMemFreeAsync / cuMemFree of the address). */
CUresult sim_graph_mem_reserve(size_t bytes, CUdevice dev, CUdeviceptr *addr);
CUresult sim_graph_mem_alloc(CUdeviceptr addr);
/* CUDA_ERROR_NOT_FOUND when addr is not graph memory at all (callers then try other kinds). */
CUresult sim_graph_mem_free(CUdeviceptr addr);

/* sim_capture.c: streams being captured are keyed by their timeline. The hot paths (launch,
 * async copy and memset) first test sim_capturing(), one relaxed load; when a capture is active
 * anywhere, sim_capture_op records op in the capture of tl instead of running it and returns
 * true with the result in *r, or returns false when tl is not being captured. */
extern _Atomic int sim_captures_active;
static inline bool sim_capturing(void)
{
    return atomic_load_explicit(&sim_captures_active, memory_order_relaxed) > 0;
}
bool sim_capture_op(sim_timeline *tl, const sim_node_op *op, CUresult *r);
/* The graph tl is being captured into, or NULL. */
CUgraph sim_capture_graph(sim_timeline *tl);

/* ------------------------------------------------------------------ export tables */
/* The private tables cuGetExportTable hands to the CUDA runtime (sim_export_table.c dispatches by
 * UUID). Each getter returns the table's first word; the tables are static and never move. */
const void *sim_table_rt_interface(void);    /* sim_rt_interface.c */
const void *sim_table_ctx_storage(void);     /* sim_ctx_storage.c */
const void *sim_table_integrity(void);       /* sim_integrity.c */
const void *sim_table_fft(void);             /* sim_fft_table.c */
const void *sim_table_fft2(void);            /* sim_fft_table.c */
const void *sim_table_tools_tls(void);       /* sim_small_tables.c */
const void *sim_table_tools_hooks(void);     /* sim_small_tables.c */
const void *sim_table_ctx_checks(void);      /* sim_small_tables.c */

/* Context-local storage (sim_ctx_storage.c): a context going away (cuCtxDestroy, primary
 * context release to zero or reset) drops its entries and runs their destructor callbacks.
 * Call without holding sim_ctx_lock: the callbacks may call back into the driver. */
void sim_ctx_storage_drop(CUcontext ctx);

/* An entry of an export table whose meaning is unknown: it says so under GREY_SIM_TRACE and
 * fails, so that a runtime calling it shows up in the trace instead of jumping to NULL. */
#define SIM_UNKNOWN_ENTRY(table, idx)                                                  \
    static CUresult unknown_##table##_##idx(void)                                     \
    {                                                                                  \
        sim_trace("export table %s[%d] called: not implemented", #table, idx);        \
        return CUDA_ERROR_NOT_SUPPORTED;                                               \
    }

#pragma GCC visibility pop

#endif
