/* What grey-plan knows about each GPU, field by field, with where every field came from and how
 * sure that source is. The detection sources (detect_chain.h) each fill a gpu_list of their own;
 * gpu_list_merge folds them into one list, device by device, so a field NVML did not report can
 * come from nvidia-smi, and two sources that agree make a value surer.
 *
 * The rule the whole planner rests on: a field that no source reported is *unknown* (its source is
 * GPU_SRC_NONE), never zero. A parser that meets "[N/A]", garbage or a cut-off line leaves the
 * field unknown and adds a note, so the planner can lower its confidence instead of trusting 0. */
#ifndef GREY_GPU_FACTS_H
#define GREY_GPU_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/limits.h"

enum gpu_vendor { GPU_VENDOR_UNKNOWN = 0, GPU_VENDOR_NVIDIA, GPU_VENDOR_AMD, GPU_VENDOR_INTEL, GPU_VENDOR_OTHER };

/* Sources in priority order: when two disagree, the earlier one's value is kept. */
enum gpu_source {
    GPU_SRC_NVML = 0,
    GPU_SRC_CUDA,
    GPU_SRC_SMI_CSV,
    GPU_SRC_SMI_XML,
    GPU_SRC_AMD_SYSFS,
    GPU_SRC_ROCM_SMI,
    GPU_SRC_LSPCI,
    GPU_SRC_COUNT,
    GPU_SRC_NONE = -1
};

enum gpu_field {
    GF_NAME = 0,
    GF_UUID,
    GF_PCI,
    GF_VRAM_TOTAL,
    GF_VRAM_FREE,
    GF_SM_COUNT,        /* streaming multiprocessors (NVIDIA) or compute units (AMD) */
    GF_CC,              /* compute capability, major * 10 + minor */
    GF_POWER_LIMIT,     /* milliwatts */
    GF_CLOCK_SM,        /* maximum SM (graphics) clock, MHz */
    GF_CLOCK_MEM,       /* maximum memory clock, MHz */
    GF_TEMP_SLOWDOWN,   /* degrees C where the hardware throttles */
    GF_TEMP_SHUTDOWN,   /* degrees C where it shuts down */
    GF_TEMP_NOW,        /* degrees C when detected */
    GF_MIG,             /* 1 MIG enabled, 0 disabled */
    GF_MIG_VRAM,        /* the largest MIG instance's memory */
    GF_DRIVER,          /* driver version text */
    GF_CUDA,            /* CUDA version the driver supports, "12.4" */
    GF_COUNT
};

struct gpu_facts {
    enum gpu_vendor vendor;
    int api_index;                /* CUDA ordinal / HIP index, -1 when no API listed it */
    int smi_index;                /* NVML / nvidia-smi index (PCI order), -1 when unknown */
    int index;                    /* set by gpu_list_finish: the physical index plans use */
    char name[GREY_NAME_MAX];
    char uuid[80];
    char pci[20];                 /* "0000:18:00.0" (gpu_pci_normalize) */
    uint64_t vram_total, vram_free, mig_vram;
    unsigned sm_count, cc, power_limit_mw, clock_sm, clock_mem;
    unsigned temp_slowdown, temp_shutdown, temp_now, mig;
    char driver[32], cuda[16];
    /* Per field: the sources that reported it (bit per enum gpu_source; the lowest set bit is the
     * one whose value is kept) and how sure the value is, in permille. 0 sources: unknown. */
    unsigned src[GF_COUNT];
    unsigned conf[GF_COUNT];
    bool partial;                 /* a source's output for this device was cut off */
};

#define GPU_LIST_MAX 32           /* NVIDIA and AMD devices of one node together */
#define GPU_NOTES_MAX 48
#define GPU_NOTE_LEN 240

struct gpu_list {
    int n;
    struct gpu_facts dev[GPU_LIST_MAX];
    int nnotes;
    char notes[GPU_NOTES_MAX][GPU_NOTE_LEN];
    unsigned sources_used;        /* bit per source that answered with at least one device */
};

const char *gpu_source_name(enum gpu_source s);
/* How far a source is trusted for what it reports, in permille (see gpu_facts.c for why). */
unsigned gpu_source_confidence(enum gpu_source s);
const char *gpu_vendor_name(enum gpu_vendor v);
/* The JSON / explain name of a field: "vram_total", "sm_count", ... */
const char *gpu_field_name(enum gpu_field f);

/* A new device record in list (zeroed, indices -1), or NULL when the list is full (noted). */
struct gpu_facts *gpu_list_add(struct gpu_list *list, enum gpu_vendor vendor);
/* Appends a note ("nvidia-smi: line 3 has 4 fields, expected 13; ignored"); extra notes past
 * GPU_NOTES_MAX are counted in the last one. */
void gpu_note(struct gpu_list *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records that source s reported field f (whose value the caller has just stored) with
 * confidence conf. */
void gpu_mark(struct gpu_facts *g, enum gpu_field f, enum gpu_source s, unsigned conf);
bool gpu_known(const struct gpu_facts *g, enum gpu_field f);
/* The source whose value of f is kept, or GPU_SRC_NONE. */
enum gpu_source gpu_field_source(const struct gpu_facts *g, enum gpu_field f);
/* "nvml", or "nvml+cuda driver" when others agreed, into buf. */
const char *gpu_field_sources(const struct gpu_facts *g, enum gpu_field f, char *buf, size_t len);

/* "00000000:18:00.0", "18:00.0", "0000:18:00.0" -> "0000:18:00.0" (the kernel's form: at least
 * four hex digits of domain). Returns 0, or -1 when text is not a PCI address: then out is left
 * as it was, so a bad second reading does not erase a good first one. */
int gpu_pci_normalize(const char *text, char *out, size_t len);

/* Folds the devices of one source (in) into list: a device is the same as one already there when
 * their UUIDs or PCI addresses match, or, for sources that report neither, when it is the k-th
 * device of its vendor that no source with an address claimed. Fields list lacks are copied;
 * fields both have either agree (confidence up, the source bit added) or disagree (list's value
 * kept, confidence down, a note). in's notes are appended. */
void gpu_list_merge(struct gpu_list *list, const struct gpu_list *in);

/* Orders the devices (NVIDIA, then AMD, then the rest; within a vendor by physical index: NVML's
 * index, else PCI address) and sets each one's index, the physical index plans use: NVML's when
 * a source gave it, else its position among its vendor's devices in that order. */
void gpu_list_finish(struct gpu_list *list);

/* How complete and corroborated one device's facts are, 0..1000: what the planner's confidences
 * start from (gpu_facts.c says how). */
unsigned gpu_device_confidence(const struct gpu_facts *g);

#endif
